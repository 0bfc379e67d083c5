/**
 * `/mesh cancel`: before the point of no return the run stops, the prompt loses its buttons, the
 * thread says who cancelled and the cluster is free; after it, the cancel is refused with why.
 */
import { click, hasButtons, roots, slash, threadOf, waitForPrompt, waitForReply } from '../support/flows.js';
import { APPROVER, REQUESTER, STRANGER, startHarness, type Harness } from '../support/harness.js';
import { namespaceLabels } from '../support/inspect.js';
import { waitFor } from '../support/wait.js';

const C1 = 'proj-a/us-central1/c1';

function runIdOf(text: string): string {
  return /run `(r[0-9a-z]+)`/.exec(text)?.[1] ?? '';
}

describe('/mesh cancel', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.stop();
  });

  const labels = (namespace: string) => namespaceLabels(h.sim, C1, namespace);

  it('stops a run waiting for approval: buttons gone, who cancelled said, cluster free, namespaces untouched', async () => {
    h = await startHarness({ scenario: 'default' });
    const runId = runIdOf((await slash(h.app.url, `enable cluster ${C1} namespaces=shop`)).text);
    const prompt = await waitForPrompt(h.sim, C1);

    const stranger = await slash(h.app.url, `cancel ${runId}`, STRANGER);
    expect(stranger.text).toContain(
      `Only <@${REQUESTER}>, who asked for run \`${runId}\`, or an approver may cancel it`,
    );

    const ack = await slash(h.app.url, `cancel ${runId}`);
    expect(ack.text).toContain(`Cancelled run \`${runId}\``);
    const told = await waitForReply(
      h.sim,
      `:octagonal_sign: Cancelled by <@${REQUESTER}> before its point of no return`,
      C1,
    );
    expect(told.text).toContain('no namespace was touched. The cluster is free for another run.');
    await waitFor('the prompt closed', () => {
      const closed = threadOf(h.sim, C1).find((m) => m.ts === prompt.ts);
      return closed && !hasButtons(closed) && JSON.stringify(closed.blocks).includes('Cancelled by');
    });
    await waitFor('the checklist showing it', () => roots(h.sim).find((m) => m.text.includes('Cancelled')));
    expect(await labels('shop')).not.toHaveProperty('istio-injection');

    // A late approval changes nothing; a second cancel says the run has ended.
    expect(await click(h.app.url, APPROVER, prompt)).toBe(200);
    await waitFor('the late click told', () =>
      h.sim.slack
        .ephemerals()
        .find((e) => e.user === APPROVER && e.text.includes('is not waiting for approval (it is cancelled)')),
    );
    expect((await slash(h.app.url, `cancel ${runId}`)).text).toContain('has already ended (cancelled)');
    // The cluster is free for another run.
    expect((await slash(h.app.url, `enable cluster ${C1}`)).text).toMatch(/Queued run/);
  });

  it('refuses once namespaces are being labelled, says why, and the run finishes', async () => {
    h = await startHarness({ scenario: 'default' });
    const runId = runIdOf((await slash(h.app.url, `enable cluster ${C1} namespaces=shop`)).text);
    const prompt = await waitForPrompt(h.sim, C1);
    // Hold the namespace label in flight, so the cancel lands while the run is past its point of no return.
    h.sim.faults.slow({
      api: 'kubernetes',
      latencyMs: 3000,
      method: 'PATCH',
      pathIncludes: '/namespaces/shop',
    });
    expect(await click(h.app.url, APPROVER, prompt)).toBe(200);
    await waitFor('the label in flight', () => h.sim.faults.slowed.length === 1, 10_000);

    const ack = await slash(h.app.url, `cancel ${runId}`, APPROVER);
    expect(ack.text).toContain('Not cancelled');
    expect(ack.text).toContain('past its point of no return');
    await waitForReply(h.sim, ':tada: Done.', C1);
    expect((await labels('shop'))['istio-injection']).toBe('enabled');
  });

  it('refuses what is not a run id, and an unknown run', async () => {
    h = await startHarness({ scenario: 'default' });
    expect((await slash(h.app.url, 'cancel')).text).toContain('which run?');
    expect((await slash(h.app.url, 'cancel <script>')).text).toContain('is not a run id');
    expect((await slash(h.app.url, 'cancel rnosuchrun1')).text).toContain('is not known to meshops');
  });
});
