/**
 * `/mesh config` end to end: the ConfigMap of the cluster's release channel (seed 003) edited after an
 * approval whose prompt shows the diff of `data.mesh`, every other key kept; a reject changes nothing; a
 * concurrent edit between the prompt and the write is not lost (the run reads again, and asks again when
 * the diff changed); a dry run makes no mutating call; bad input starts nothing.
 */
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { SlackMessage } from '../../src/sim/index.js';
import { REJECT_ACTION } from '../../src/slack/render.js';
import { Redis } from 'ioredis';
import { ask, click, hasButtons, latestThreadOf, roots, runIdOf, slash } from '../support/flows.js';
import { APPROVER, CHANNEL, startHarness, type Harness } from '../support/harness.js';
import { kubeFor } from '../support/inspect.js';
import { testRedisUrl } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

const C1 = 'proj-a/us-central1/c1'; // REGULAR channel
const C2 = 'proj-b/europe-west1/c2'; // RAPID channel
const NS = 'istio-system';
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** Seed 003's MeshConfig, with a comment and a key meshops does not know. */
const seedMesh = [
  '# access logs and their format',
  'accessLogEncoding: JSON',
  'x-team-note: keep me # not Istio',
  'defaultConfig:',
  '  tracing:',
  '    stackdriver: {}',
  '',
].join('\n');

function blocksText(message: Pick<SlackMessage, 'blocks'>): string {
  return JSON.stringify(message.blocks ?? []);
}

describe('/mesh config', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ scenario: 'default' });
    const { core } = await kubeFor(h.sim, C1);
    // What Google's managed control plane and a team left in istio-system (seed 003).
    await core.createNamespacedConfigMap({
      namespace: NS,
      body: {
        metadata: { name: 'istio-asm-managed', labels: { team: 'platform' } },
        data: { mesh: seedMesh, 'other-key': 'untouched' },
      },
    });
    await core.createNamespacedConfigMap({
      namespace: NS,
      body: { metadata: { name: 'istio-asm-managed-rapid' }, data: { mesh: 'accessLogEncoding: TEXT\n' } },
    });
  });
  afterAll(async () => {
    await h?.stop();
  });

  async function configMap(ref: string, name: string) {
    const { core } = await kubeFor(h.sim, ref);
    try {
      return await core.readNamespacedConfigMap({ name, namespace: NS });
    } catch {
      return null;
    }
  }

  const thread = (ref: string) => latestThreadOf(h.sim, `Mesh config on \`${ref}\``);

  /** Types the command; returns the run's prompt once it is posted with its buttons. */
  async function prompted(text: string, ref: string): Promise<SlackMessage> {
    const before = roots(h.sim).length;
    expect((await slash(h.app.url, text)).text).toMatch(/^:inbox_tray: Queued run/);
    await waitFor('the run’s root message', () => roots(h.sim).length > before || undefined);
    return waitFor('the approval prompt', () => thread(ref).find(hasButtons));
  }

  function finished(ref: string, prefix: string): Promise<SlackMessage> {
    return waitFor(`a reply starting ${prefix}`, () => thread(ref).find((m) => m.text.startsWith(prefix)));
  }

  it('answers bad input with what is wrong and the right form, and starts nothing', async () => {
    const mutations = h.sim.requests.mutations().length;
    const rootsBefore = roots(h.sim).length;
    const cases: Array<[string, RegExp]> = [
      [`config ${C1}`, /what should change\? Give `access-log=on\|off`, `tracing=SAMPLING` or both/],
      [`config ${C1} access-log=yes`, /`access-log=` takes on or off/],
      [`config ${C1} tracing=101`, /`tracing=` takes the sampling percentage, 0 to 100/],
      [`config ${C1} tracing=-1`, /`tracing=` takes the sampling percentage/],
      [`config ${C1} tracing=ten`, /`tracing=` takes the sampling percentage/],
      [`config ${C1} tracing=1 tracing=2`, /`tracing=` is given twice/],
      [`config ${C1} sampling=5`, /unknown option `sampling=`/],
      ['config', /which cluster\?/],
      ['config nope access-log=on', /is not a cluster reference/],
    ];
    for (const [text, reason] of cases) {
      const answer = await slash(h.app.url, text);
      expect([text, answer.status]).toEqual([text, 200]);
      expect([text, answer.text]).toEqual([text, expect.stringMatching(reason)]);
      expect(answer.text).toContain('Nothing was started');
      expect(answer.text).toContain('/mesh config PROJECT/LOCATION/CLUSTER');
    }
    expect(roots(h.sim)).toHaveLength(rootsBefore);
    expect(h.sim.requests.mutations()).toHaveLength(mutations);
  });

  it('is in the help', async () => {
    const help = await slash(h.app.url, 'help');
    expect(help.text).toContain(
      '`/mesh config PROJECT/LOCATION/CLUSTER [access-log=on|off] [tracing=SAMPLING] [dry-run=true]`',
    );
  });

  it('a dry run lists the one edit and makes no mutating call', async () => {
    h.sim.requests.clear();
    const ack = (await slash(h.app.url, `config ${C1} access-log=on dry-run=true`)).text;
    expect(ack).toMatch(/^:test_tube: Queued dry run/);
    const plan = await waitFor('the dry run’s plan', () =>
      h.sim.slack.messages(CHANNEL).find((m) => m.text.startsWith('Dry run of')),
    );
    expect(blocksText(plan)).toContain('PATCH /api/v1/namespaces/istio-system/configmaps/istio-asm-managed');
    expect(h.sim.requests.mutations()).toEqual([]);
    // It did read the ConfigMap it would edit.
    expect(h.sim.requests.entries().map((e) => `${e.method} ${e.path}`)).toContain(
      'GET /api/v1/namespaces/istio-system/configmaps/istio-asm-managed',
    );
  });

  it('REGULAR: edits exactly istio-asm-managed after approval, the diff in the prompt, every other key kept', async () => {
    const rapidBefore = await configMap(C1, 'istio-asm-managed-rapid');
    h.sim.requests.clear();
    const prompt = await prompted(`config ${C1} access-log=on tracing=10`, C1);
    const shown = blocksText(prompt);
    expect(shown).toContain('`data.mesh` of ConfigMap `istio-system/istio-asm-managed` (REGULAR channel');
    expect(shown).toContain('every other key is kept');
    expect(shown).toContain('+     sampling: 10');
    expect(shown).toContain('+ accessLogFile: /dev/stdout');
    expect(shown).toContain('  defaultConfig:\\n    tracing:\\n      stackdriver: {}\\n+     sampling: 10');
    // What approving lets happen, as a dry run lists it: the one conditional edit.
    expect(shown).toContain('PATCH /api/v1/namespaces/istio-system/configmaps/istio-asm-managed');
    expect(h.sim.requests.mutations()).toEqual([]);

    expect(await click(h.app.url, APPROVER, prompt)).toBe(200);
    const done = await finished(C1, ':tada: Done.');
    expect(done.text).toContain('Edited `data.mesh` of ConfigMap `istio-system/istio-asm-managed`');
    expect(done.text).toContain('every other key kept');

    const edited = await configMap(C1, 'istio-asm-managed');
    expect(edited?.data).toEqual({
      mesh: [
        '# access logs and their format',
        'accessLogEncoding: JSON',
        'x-team-note: keep me # not Istio',
        'defaultConfig:',
        '  tracing:',
        '    stackdriver: {}',
        '    sampling: 10',
        'accessLogFile: /dev/stdout',
        '',
      ].join('\n'),
      'other-key': 'untouched',
    });
    expect(edited?.metadata?.labels).toEqual({ team: 'platform' });
    expect((await configMap(C1, 'istio-asm-managed-rapid'))?.metadata?.resourceVersion).toBe(
      rapidBefore?.metadata?.resourceVersion,
    );
    expect(h.sim.requests.mutations().map((e) => `${e.method} ${e.path}`)).toEqual([
      'PATCH /api/v1/namespaces/istio-system/configmaps/istio-asm-managed',
    ]);

    // Status of the run shows, from its record, the diff its prompt showed.
    const runId = runIdOf(prompt);
    const ofRun = blocksText(await ask(h.app.url, h.sim, `status ${runId}`));
    expect(ofRun).toContain('access logs off → on · tracing sampling not set → 10%.');
    expect(ofRun).toContain('  defaultConfig:\\n    tracing:\\n      stackdriver: {}\\n+     sampling: 10');
    expect(ofRun).toContain('+ accessLogFile: /dev/stdout');

    // The finished record, with data.mesh before and after and the diff, stays small once compacted.
    const redis = new Redis(testRedisUrl());
    try {
      const key = `${h.config.redis.prefix}:run:${runId}`;
      await waitFor(
        'the record compacted',
        async () => ((await redis.hget(key, 'json')) ?? '').startsWith('z:') || undefined,
      );
      expect(await redis.call('MEMORY', 'USAGE', key)).toBeLessThan(2500);
    } finally {
      await redis.quit();
    }
  });

  it('RAPID: creates istio-asm-managed-rapid when it does not exist yet', async () => {
    expect(await configMap(C2, 'istio-asm-managed-rapid')).toBeNull();
    h.sim.requests.clear();
    const prompt = await prompted(`config ${C2} access-log=on`, C2);
    expect(blocksText(prompt)).toContain(
      'ConfigMap `istio-system/istio-asm-managed-rapid` (RAPID channel) does not exist yet: it will be created',
    );
    expect(blocksText(prompt)).toContain('+ accessLogFile: /dev/stdout');
    expect(await click(h.app.url, APPROVER, prompt)).toBe(200);
    await finished(C2, ':tada: Done.');
    expect((await configMap(C2, 'istio-asm-managed-rapid'))?.data).toEqual({
      mesh: 'accessLogFile: /dev/stdout\n',
    });
    expect(await configMap(C2, 'istio-asm-managed')).toBeNull();
    expect(h.sim.requests.mutations().map((e) => `${e.method} ${e.path}`)).toEqual([
      'POST /api/v1/namespaces/istio-system/configmaps',
    ]);
  });

  it('a reject leaves the ConfigMap as it was', async () => {
    const before = await configMap(C1, 'istio-asm-managed');
    const prompt = await prompted(`config ${C1} access-log=off`, C1);
    expect(blocksText(prompt)).toContain('- accessLogFile: /dev/stdout');
    expect(await click(h.app.url, APPROVER, prompt, REJECT_ACTION, { reason: 'not now' })).toBe(200);
    const rejected = await waitFor('the outcome', () =>
      thread(C1).find(
        (m) => m.text.startsWith(':no_entry:') && m.text.endsWith('The ConfigMap was not changed.'),
      ),
    );
    expect(rejected.text).toContain('“not now”');
    const after = await configMap(C1, 'istio-asm-managed');
    expect(after?.metadata?.resourceVersion).toBe(before?.metadata?.resourceVersion);
    expect(after?.data).toEqual(before?.data);
    // Its status shows the diff that was asked, and that it was not written.
    const ofRun = blocksText(await ask(h.app.url, h.sim, `status ${runIdOf(prompt)}`));
    expect(ofRun).toContain('— not written.');
    expect(ofRun).toContain('access logs on → off.');
    expect(ofRun).toContain('- accessLogFile: /dev/stdout');
  });

  it('a change of other keys between the prompt and the write is kept, and the same edit written over it', async () => {
    const prompt = await prompted(`config ${C1} tracing=20`, C1);
    const { core } = await kubeFor(h.sim, C1);
    // Someone else (kubectl edit) changes another key while the prompt waits.
    await core.patchNamespacedConfigMap(
      { name: 'istio-asm-managed', namespace: NS, body: { data: { 'other-key': 'changed meanwhile' } } },
      mergePatch,
    );
    expect(await click(h.app.url, APPROVER, prompt)).toBe(200);
    const done = await finished(C1, ':tada: Done.');
    expect(done.text).toContain('it had changed meanwhile outside `data.mesh`: read again, that change kept');
    const after = await configMap(C1, 'istio-asm-managed');
    expect(after?.data?.['other-key']).toBe('changed meanwhile');
    expect(after?.data?.mesh).toContain('    sampling: 20\n');
  });

  it('a change of data.mesh between the prompt and the write is not lost: the run reads again and asks again with the new diff', async () => {
    const prompt = await prompted(`config ${C1} tracing=50`, C1);
    const { core } = await kubeFor(h.sim, C1);
    const current = await configMap(C1, 'istio-asm-managed');
    const theirs = `${current?.data?.mesh ?? ''}enableTracing: true # added by someone else\n`;
    await core.patchNamespacedConfigMap(
      { name: 'istio-asm-managed', namespace: NS, body: { data: { mesh: theirs } } },
      mergePatch,
    );
    const changedVersion = (await configMap(C1, 'istio-asm-managed'))?.metadata?.resourceVersion;
    expect(await click(h.app.url, APPROVER, prompt)).toBe(200);

    // The approval does not cover the new text: nothing is written, the same prompt asks again.
    const warning = await finished(C1, ':warning: The ConfigMap was changed by someone else');
    expect(warning.text).toContain('approve it again');
    const renewed = await waitFor('the renewed prompt', () =>
      thread(C1).find((m) => m.ts === prompt.ts && hasButtons(m)),
    );
    const shown = blocksText(renewed);
    expect(shown).toContain('Asked again: the ConfigMap was changed by someone else');
    expect(shown).toContain('  enableTracing: true # added by someone else');
    expect(shown).toContain('-     sampling: 20');
    expect(shown).toContain('+     sampling: 50');
    expect((await configMap(C1, 'istio-asm-managed'))?.metadata?.resourceVersion).toBe(changedVersion);
    // A click on the prompt as it was (the old plan) counts for nothing.
    expect(await click(h.app.url, APPROVER, prompt, undefined, { from: renewed })).toBe(200);
    await waitFor('the refusal', () =>
      h.sim.slack
        .ephemerals(CHANNEL)
        .find((e) => e.user === APPROVER && e.text.includes('is not on the approval prompt')),
    );
    expect((await configMap(C1, 'istio-asm-managed'))?.metadata?.resourceVersion).toBe(changedVersion);

    expect(await click(h.app.url, APPROVER, renewed)).toBe(200);
    await finished(C1, ':tada: Done.');
    const mesh = (await configMap(C1, 'istio-asm-managed'))?.data?.mesh ?? '';
    expect(mesh).toContain('enableTracing: true # added by someone else');
    expect(mesh).toContain('    sampling: 50\n');
    expect(mesh).not.toContain('sampling: 20');
  });
});
