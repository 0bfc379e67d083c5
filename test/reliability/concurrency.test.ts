/**
 * Concurrency: two `enable` for one cluster at the same instant make one run; fifty clusters of
 * one fleet project onboarded at once all end with their own membership spec in the one
 * servicemesh feature (each PATCH carries only its own key, so none overwrites another).
 */
import type { ClusterSpec } from '../../src/sim/index.js';
import { roots, slash } from '../support/flows.js';
import { startHarness, type Harness } from '../support/harness.js';
import { listMemberships } from '../support/inspect.js';
import { waitFor } from '../support/wait.js';

const FIFTY = 50;

describe('concurrent commands', () => {
  let h: Harness;
  const clusters: ClusterSpec[] = Array.from({ length: FIFTY }, (_, i) => ({
    project: 'proj-a',
    location: 'us-central1',
    name: `fleet-${String(i).padStart(2, '0')}`,
  }));

  beforeAll(async () => {
    h = await startHarness(
      { scenario: { projects: [{ id: 'proj-a', number: '123456789012' }], clusters } },
      { config: { worker: { concurrency: 50, lockDurationMs: 8000, stalledIntervalMs: 4000 } } },
    );
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('two enable commands for one cluster at the same instant make one run; the other is told which', async () => {
    const ref = 'proj-a/us-central1/fleet-00';
    const [a, b] = await Promise.all([
      slash(h.app.url, `enable cluster ${ref}`),
      slash(h.app.url, `enable cluster ${ref}`),
    ]);
    const answers = [a.text, b.text];
    expect(answers.filter((t) => /Queued run/.test(t))).toHaveLength(1);
    expect(answers.find((t) => !/Queued run/.test(t))).toMatch(/already|in progress|running/i);
    await waitFor('the run to finish', () => roots(h.sim).some((m) => m.text.includes('Succeeded')), 60_000);
    expect(roots(h.sim).filter((m) => m.text.includes(ref))).toHaveLength(1);
    expect(
      (await listMemberships(h.sim, 'proj-a')).filter((m) => m.name?.endsWith('/fleet-00')),
    ).toHaveLength(1);
  });

  it(`${FIFTY} clusters of one project enabled at once: every membership spec is in the feature, none lost`, async () => {
    const refs = clusters.slice(1).map((c) => `${c.project}/${c.location}/${c.name}`);
    const acks = await Promise.all(refs.map((ref) => slash(h.app.url, `enable cluster ${ref}`)));
    expect(acks.filter((a) => /Queued run/.test(a.text))).toHaveLength(refs.length);
    await waitFor(
      'every run to finish',
      () => roots(h.sim).filter((m) => /Succeeded|Failed/.test(m.text)).length === FIFTY,
      240_000,
      250,
    );
    expect(roots(h.sim).filter((m) => m.text.includes('Failed'))).toEqual([]);
    const specs = [...(h.sim.world.feature('proj-a', 'servicemesh')?.membershipSpecs.values() ?? [])];
    expect(specs).toHaveLength(FIFTY);
    for (const entry of specs) expect(entry.spec).toEqual({ mesh: { management: 'MANAGEMENT_AUTOMATIC' } });
    expect(await listMemberships(h.sim, 'proj-a')).toHaveLength(FIFTY);
  }, 300_000);
});
