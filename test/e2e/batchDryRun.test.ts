/**
 * `dry-run=true` on a batch `/mesh enable cluster`: the clusters resolved as the real batch resolves
 * them, a dry run of each, one summary in one thread (counts, blocker codes, a line per cluster),
 * nothing to confirm or approve, and nothing changed: the emulator's request log has no POST, PATCH,
 * PUT or DELETE to Google and no PATCH or PUT to Kubernetes. Each member's plan is its own dry run,
 * shown whole by `/mesh status RUN_ID`; the real batch on the same world then makes the calls the plans
 * named, no more. Over the emulator, with real HTTP and Redis.
 */
import type { ClusterSpec, SlackEphemeral } from '../../src/sim/index.js';
import { CONFIRM_ACTION } from '../../src/slack/renderBatch.js';
import { APPROVE_ACTION } from '../../src/slack/render.js';
import { ask, click, hasButtons, roots, slash } from '../support/flows.js';
import { APPROVER, CHANNEL, REQUESTER, startHarness, type Harness } from '../support/harness.js';
import { listMemberships } from '../support/inspect.js';
import { waitFor } from '../support/wait.js';
import { batchCluster as cluster, batchProjects as projects } from '../support/batchWorld.js';

const clusters: ClusterSpec[] = [
  cluster('fleet-aa', 'us-central1', 'prod-1', { resourceLabels: { env: 'prod' } }),
  cluster('fleet-aa', 'europe-west1', 'prod-2', { resourceLabels: { env: 'prod' } }),
  // Left out by the label filter.
  cluster('fleet-aa', 'us-central1', 'prod-3', { resourceLabels: { env: 'dev' } }),
  // Named by reference; Workload Identity off: preflight blocks it, in the dry run as in the real batch.
  cluster('fleet-bb', 'us-east1', 'api-1', { workloadIdentity: false, resourceLabels: { env: 'prod' } }),
  cluster('fleet-bb', 'us-east1', 'api-2', { resourceLabels: { env: 'prod' } }),
];

const COMMAND =
  'enable cluster fleet-aa/-/prod-* fleet-bb/us-east1/api-1 fleet-bb/us-east1/api-2 label:env=prod namespaces=default';
const PLANNED = ['fleet-aa/us-central1/prod-1', 'fleet-aa/europe-west1/prod-2', 'fleet-bb/us-east1/api-2'];
const BLOCKED = 'fleet-bb/us-east1/api-1';

function blocksText(message: { blocks?: unknown }): string {
  return JSON.stringify(message.blocks ?? []);
}

/** The calls a message lists, `METHOD path` without the query. */
function listedCalls(message: { blocks?: unknown }): string[] {
  return [...blocksText(message).matchAll(/`(POST|PATCH|PUT|DELETE) ([^`?]+)[^`]*`/g)].map(
    (m) => `${m[1]} ${m[2]}`,
  );
}

const unique = (items: string[]) => [...new Set(items)].sort();

describe('dry-run=true on a batch', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ scenario: { projects, clusters } });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('plans every cluster the batch would take, says which a blocker stops, and changes nothing; the real batch then makes the planned calls', async () => {
    const { sim, app } = h;
    sim.requests.clear();
    const ack = (await slash(app.url, `${COMMAND} dry-run=true`)).text;
    const batchId = /^:test_tube: Queued dry run of batch `(r[0-9a-z]+)`/.exec(ack)?.[1];
    expect(batchId).toBeDefined();
    expect(ack).toContain('nothing to confirm or approve');

    const summary = await waitFor(
      'the batch dry run’s summary',
      () => sim.slack.messages(CHANNEL).find((m) => m.thread_ts && m.text.startsWith('Dry run of')),
      90_000,
    );
    expect(summary.text).toBe(
      `Dry run of /mesh ${COMMAND}: 4 cluster(s), 3 would proceed, 1 blocked, nothing changed`,
    );
    const text = blocksText(summary);
    expect(text).toContain('*4 cluster(s)*: *3 would proceed*');
    expect(text).toContain('*1 blocked*');
    expect(text).toContain('Blocked by: `');
    expect(text).toContain('`WORKLOAD_IDENTITY_DISABLED` (1 cluster(s))');
    // One line per cluster; the label filter left prod-3 out, as the real batch would.
    expect(text).not.toContain('prod-3');
    for (const ref of PLANNED)
      expect(text).toMatch(
        new RegExp(
          `:white_check_mark: \`${ref}\` \\(\`r[0-9a-z]+\`\\) would proceed: \\d+ change\\(s\\), 2 of 2 pod\\(s\\) would restart`,
        ),
      );
    expect(text).toMatch(
      new RegExp(
        `:construction: \`${BLOCKED}\` \\(\`r[0-9a-z]+\`\\) blocked at \\*Preflight\\*:[^•]*WORKLOAD_IDENTITY_DISABLED`,
      ),
    );

    // Nothing changed, nothing asked: no mutation at all, one root and one reply, no button anywhere.
    expect(sim.requests.mutations()).toEqual([]);
    expect(sim.requests.count({ method: 'GET' })).toBeGreaterThan(0);
    expect(await listMemberships(sim, 'fleet-aa')).toEqual([]);
    const [root] = roots(sim);
    expect(roots(sim)).toHaveLength(1);
    expect(root!.text).toContain('Dry run: Enable Cloud Service Mesh on 4 clusters');
    const thread = sim.slack.thread(CHANNEL, root!.ts);
    expect(thread.map((m) => m.text)).toEqual([summary.text]);
    expect(JSON.stringify(sim.slack.messages(CHANNEL))).not.toContain(APPROVE_ACTION);
    expect(sim.slack.ephemerals(CHANNEL).some((e) => JSON.stringify(e).includes(CONFIRM_ACTION))).toBe(false);
    await waitFor('the final table', () =>
      blocksText(sim.slack.messages(CHANNEL).find((m) => m.ts === root!.ts) ?? {}).includes(
        'would proceed: 3',
      ),
    );

    // Each member's plan is its dry run, whole in `/mesh status RUN_ID`.
    const memberIds = new Map(
      [...text.matchAll(/`([-a-z0-9]+\/[-a-z0-9]+\/[-a-z0-9]+)` \(`(r[0-9a-z]+)`\)/g)].map((m) => [
        m[1]!,
        m[2]!,
      ]),
    );
    expect([...memberIds.keys()].sort()).toEqual([...PLANNED, BLOCKED].sort());
    const plans = new Map<string, SlackEphemeral>();
    for (const [ref, runId] of memberIds) plans.set(ref, await ask(app.url, sim, `status ${runId}`));
    for (const ref of PLANNED) {
      const plan = plans.get(ref)!;
      expect(blocksText(plan)).toContain(':memo: Register in the fleet — would register');
      expect(blocksText(plan)).toContain(
        'Set `istio-injection=enabled`, remove `istio.io/rev` on 1 namespace(s)',
      );
      expect(listedCalls(plan)).toEqual(
        expect.arrayContaining([
          'PATCH /api/v1/namespaces/default',
          'PATCH /apis/apps/v1/namespaces/default/deployments/web',
        ]),
      );
    }
    const blockedPlan = blocksText(plans.get(BLOCKED)!);
    expect(blockedPlan).toContain('Workload Identity is not enabled on api-1');
    expect(listedCalls(plans.get(BLOCKED)!)).toEqual([]);
    // `/mesh status BATCH_ID` lists the same line for every cluster.
    const status = await ask(app.url, sim, `status ${batchId}`);
    for (const ref of [...PLANNED, BLOCKED]) expect(blocksText(status)).toContain(`\`${ref}\` (\``);
    expect(sim.requests.mutations()).toEqual([]);

    // The real batch on the same world: confirm, approve, and it makes the calls the plans named.
    sim.requests.clear();
    const list = await ask(app.url, sim, COMMAND);
    expect(blocksText(list)).toContain('*4 cluster(s)*');
    expect(await click(app.url, REQUESTER, list, CONFIRM_ACTION)).toBe(200);
    const prompt = await waitFor(
      'the batch approval prompt',
      () => sim.slack.messages(CHANNEL).find((m) => m.thread_ts && hasButtons(m)),
      60_000,
    );
    expect(blocksText(prompt)).toContain('Sidecar injection on 3 cluster(s)');
    expect(await click(app.url, APPROVER, prompt)).toBe(200);
    await waitFor(
      'the batch summary',
      () =>
        sim.slack.messages(CHANNEL).find((m) => m.text.includes('3 of 4 cluster(s) on Cloud Service Mesh')),
      120_000,
    );
    const planned = unique([...plans.values()].flatMap(listedCalls));
    const made = unique(sim.requests.mutations().map((e) => `${e.method} ${e.path}`));
    expect(made).toEqual(planned);
    // Kubernetes, cluster by cluster: what each member's plan named, on that cluster only.
    for (const ref of [...PLANNED, BLOCKED]) {
      const kube = unique(
        sim.requests
          .mutations({ cluster: ref })
          .filter((e) => e.api === 'kubernetes')
          .map((e) => `${e.method} ${e.path}`),
      );
      expect(kube).toEqual(unique(listedCalls(plans.get(ref)!).filter((c) => /^\w+ \/apis?\//.test(c))));
    }
  }, 240_000);

  it('a dry run that matches nothing says so to its requester and starts nothing', async () => {
    const { sim, app } = h;
    sim.requests.clear();
    const answer = await ask(app.url, sim, 'enable cluster fleet-aa/-/none-* dry-run=true');
    expect(answer.text).toContain('no cluster matches `fleet-aa/-/none-*`');
    expect(sim.requests.mutations()).toEqual([]);
  }, 60_000);
});
