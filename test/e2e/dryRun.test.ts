/**
 * `dry-run=true` end to end: a dry run reads everything and changes nothing (the emulator's request
 * log has no POST, PATCH, PUT or DELETE to Google and no PATCH or PUT to Kubernetes), and its plan
 * names every change the real run of the same command then makes on the same world, no more. The real
 * run's approval prompt names, the same way, every change that approving it lets happen.
 */
import type { Scenario, SlackMessage } from '../../src/sim/index.js';
import { namedScenario } from '../../src/sim/scenarios.js';
import { defaultServices } from '../../src/sim/world.js';
import { APPROVE_ACTION } from '../../src/slack/render.js';
import { ask, click, enableAndApprove, latestThreadOf, roots, slash } from '../support/flows.js';
import { APPROVER, CHANNEL, startHarness, type Harness } from '../support/harness.js';
import { getCluster, listMemberships, namespaceLabels } from '../support/inspect.js';
import { waitFor } from '../support/wait.js';

const C1 = 'proj-a/us-central1/c1';
const C2 = 'proj-b/europe-west1/c2';

/** The calls a message lists, `METHOD path` without the query, in the order it lists them. */
function listedCalls(message: { blocks?: unknown }): string[] {
  const text = JSON.stringify(message.blocks ?? []);
  return [...text.matchAll(/`(POST|PATCH|PUT|DELETE) ([^`?]+)[^`]*`/g)].map((m) => `${m[1]} ${m[2]}`);
}

/** Each entry once, in the order first seen. */
const unique = (items: string[]) => [...new Set(items)];

function blocksText(message: SlackMessage): string {
  return JSON.stringify(message.blocks ?? []);
}

/** Every mutation the emulator has seen since `from` (an index into that list), `METHOD path`, each once. */
function mutationsSince(h: Harness, from = 0): string[] {
  return unique(
    h.sim.requests
      .mutations()
      .slice(from)
      .map((e) => `${e.method} ${e.path}`),
  );
}

/** Types `/mesh TEXT dry-run=true`; returns its ack and the plan posted in its thread, having changed nothing. */
async function dryRun(
  h: Harness,
  text: string,
  title: string,
): Promise<{ ack: string; plan: SlackMessage; thread: SlackMessage[] }> {
  h.sim.requests.clear();
  const ack = (await slash(h.app.url, `${text} dry-run=true`)).text;
  const runId = /^:test_tube: Queued dry run `(r[0-9a-z]+)`/.exec(ack)?.[1];
  expect(runId).toBeDefined();
  const plan = await waitFor('the dry run’s plan', () =>
    h.sim.slack
      .messages(CHANNEL)
      .find((m) => m.text.startsWith('Dry run of') && blocksText(m).includes(`Dry run \`${runId}\``)),
  );
  const thread = latestThreadOf(h.sim, `Dry run: ${title}`);
  expect(thread[0]?.ts).toBe(plan.thread_ts);
  expect(h.sim.requests.mutations()).toEqual([]);
  // It did read: the plan rests on the world as it is.
  expect(h.sim.requests.count({ method: 'GET' })).toBeGreaterThan(0);
  return { ack, plan, thread };
}

/**
 * Runs `/mesh TEXT` for real through its approval to the end: the mutations it made in all, those it
 * made after the approval, and its prompt.
 */
async function realRun(
  h: Harness,
  text: string,
  title: string,
): Promise<{ made: string[]; afterApproval: string[]; prompt: SlackMessage }> {
  h.sim.requests.clear();
  expect((await slash(h.app.url, text)).text).toMatch(/Queued run/);
  const thread = () => latestThreadOf(h.sim, title);
  const prompt = await waitFor('the approval prompt', () =>
    thread().find((m) => blocksText(m).includes(APPROVE_ACTION)),
  );
  expect(thread()[0]!.text).not.toContain('Dry run');
  const beforeApproval = h.sim.requests.mutations().length;
  expect(await click(h.app.url, APPROVER, prompt)).toBe(200);
  await waitFor('the run to succeed', () => thread().find((m) => m.text.startsWith(':tada: Done.')));
  return { made: mutationsSince(h), afterApproval: mutationsSince(h, beforeApproval), prompt };
}

describe('dry-run=true', () => {
  let h: Harness;

  describe('on a cluster not yet on the mesh', () => {
    afterEach(async () => {
      await h?.stop();
    });

    it('enable cluster: changes nothing, and plans exactly the changes the real run then makes', async () => {
      h = await startHarness({ scenario: 'default' });
      const title = 'Enable Cloud Service Mesh on';
      const command = `enable cluster ${C1} namespaces=default,shop`;
      const { plan, thread } = await dryRun(h, command, title);
      const text = blocksText(plan);
      expect(plan.text).toBe(
        'Dry run of /mesh enable cluster proj-a/us-central1/c1 namespaces=default,shop: 9 change(s) planned, nothing changed',
      );
      expect(text).toContain('nothing was changed');
      // What a platform engineer reads: the labels it would set and remove, the pods that would
      // restart, what it would wait for and who would approve.
      expect(text).toContain('mesh_id=proj-123456789012 set (env, team kept)');
      expect(text).toContain('Set `istio-injection=enabled`, remove `istio.io/rev` on 2 namespace(s)');
      expect(text).toContain('5 of 5 pod(s) would restart');
      expect(text).toContain('Deployment cart, Deployment checkout');
      expect(text).toContain('*Control plane ACTIVE*\\n• :hourglass_flowing_sand: would wait for this');
      expect(text).toContain(':raised_hand: would ask for approval. Needs one approver of <@UAPPROVER>');
      // One thread: the root (a checklist that says it is a dry run) and the plan; no prompt, no buttons.
      expect(thread.map((m) => m.text)).toEqual([
        expect.stringContaining('Dry run: Enable Cloud Service Mesh on `proj-a/us-central1/c1`: :test_tube:'),
        plan.text,
      ]);
      expect(JSON.stringify(thread)).not.toContain(APPROVE_ACTION);
      expect(await listMemberships(h.sim, 'proj-a')).toEqual([]);
      expect((await getCluster(h.sim, C1)).resourceLabels).not.toHaveProperty('mesh_id');
      expect(await namespaceLabels(h.sim, C1, 'shop')).not.toHaveProperty('istio-injection');

      // `/mesh status RUN_ID` shows the same plan, to the one who asks.
      const runId = /Dry run `(r[0-9a-z]+)`/.exec(text)?.[1] ?? '';
      const status = await ask(h.app.url, h.sim, `status ${runId}`);
      expect(listedCalls(status)).toEqual(listedCalls(plan));
      expect(JSON.stringify(status.blocks)).toContain(':memo: Register in the fleet — would register');

      const { made, afterApproval, prompt } = await realRun(h, command, title);
      expect(unique(listedCalls(plan))).toEqual(made);
      // The prompt names what approving lets happen, as the dry run listed it.
      expect(listedCalls(prompt)).toEqual(afterApproval);
      expect(afterApproval).toEqual([
        'PATCH /api/v1/namespaces/default',
        'PATCH /api/v1/namespaces/shop',
        'PATCH /apis/apps/v1/namespaces/default/deployments/web',
        'PATCH /apis/apps/v1/namespaces/shop/deployments/cart',
        'PATCH /apis/apps/v1/namespaces/shop/deployments/checkout',
      ]);
      expect(blocksText(prompt)).toContain('Approving lets these 5 change(s) happen');
    });

    it('enable cluster with mesh.googleapis.com off: plans enabling it, as the real run does', async () => {
      const world = namedScenario('default');
      const scenario: Scenario = {
        ...world,
        projects: world.projects.map((p) =>
          p.id === 'proj-a'
            ? { ...p, services: defaultServices.filter((s) => s !== 'mesh.googleapis.com') }
            : p,
        ),
      };
      h = await startHarness({ scenario });
      const command = `enable cluster ${C1}`;
      const { plan } = await dryRun(h, command, 'Enable Cloud Service Mesh on');
      expect(listedCalls(plan)[0]).toBe('POST /v1/projects/proj-a/services:batchEnable');
      expect(blocksText(plan)).toContain('enable mesh.googleapis.com on proj-a (one batchEnable)');
      h.sim.requests.clear();
      expect((await slash(h.app.url, command)).text).toMatch(/Queued run/);
      await waitFor('the run to succeed', () =>
        latestThreadOf(h.sim, 'Enable Cloud Service Mesh on').find((m) => m.text.startsWith(':tada: Done.')),
      );
      expect(unique(listedCalls(plan))).toEqual(mutationsSince(h));
    });

    it('reports the blockers with their fixes, and the steps after them unplanned', async () => {
      h = await startHarness({ scenario: 'default' });
      const { plan } = await dryRun(
        h,
        `enable cluster ${C2} namespaces=default`,
        'Enable Cloud Service Mesh on',
      );
      const text = blocksText(plan);
      // Workload Identity off on a Standard cluster: its node pool does not serve GKE_METADATA either.
      expect(plan.text).toContain('2 blockers found, nothing changed');
      expect(text).toContain(
        ':construction: *Dry run of `/mesh enable cluster proj-b/europe-west1/c2 namespaces=default` found 2 blockers* at *Preflight',
      );
      expect(text).toContain('`NODE_POOL_METADATA` node pool(s) default-pool (unset) of c2');
      expect(text).toContain('Workload Identity is not enabled on c2');
      expect(text).toContain(
        '*What to do:* gcloud container clusters update c2 --location europe-west1 --project proj-b --workload-pool=proj-b.svc.id.goog',
      );
      expect(listedCalls(plan)).toEqual([]);
      // The root's checklist is updated on its own, and may come just after the plan.
      await waitFor('the root to say so', () =>
        roots(h.sim)[0]!.text.includes('Dry run found a blocker') ? true : undefined,
      );

      // inject needs the managed data plane: the same check a real run makes, and the same refusal.
      const inject = await dryRun(h, `inject ${C1} shop`, 'Sidecar injection on');
      expect(blocksText(inject.plan)).toContain(
        'is not registered in the fleet of proj-a, so it has no managed mesh to inject',
      );
    });
  });

  describe('on a cluster on the mesh', () => {
    beforeAll(async () => {
      h = await startHarness({ scenario: 'default' }, { config: { fleet: { removeMeshIdOnDisable: true } } });
      await enableAndApprove(h.app.url, h.sim, C1, 'default');
    });
    afterAll(async () => {
      await h?.stop();
    });

    it('inject: plans the label and the restarts the real run then makes', async () => {
      const title = 'Sidecar injection on';
      const { plan } = await dryRun(h, `inject ${C1} shop`, title);
      expect(unique(listedCalls(plan))).toEqual([
        'PATCH /api/v1/namespaces/shop',
        'PATCH /apis/apps/v1/namespaces/shop/deployments/cart',
        'PATCH /apis/apps/v1/namespaces/shop/deployments/checkout',
      ]);
      const { made, afterApproval, prompt } = await realRun(h, `inject ${C1} shop`, title);
      expect(unique(listedCalls(plan))).toEqual(made);
      expect(listedCalls(prompt)).toEqual(afterApproval);
    });

    it('uninject: plans removing the labels and the restarts the real run then makes', async () => {
      const title = 'Remove sidecar injection on';
      const { plan } = await dryRun(h, `uninject ${C1} shop`, title);
      expect(blocksText(plan)).toContain('istio-injection removed');
      const { made, afterApproval, prompt } = await realRun(h, `uninject ${C1} shop`, title);
      expect(unique(listedCalls(plan))).toEqual(made);
      expect(listedCalls(prompt)).toEqual(afterApproval);
    });

    it('a dry run beside a run holding the cluster: admitted, it holds nothing up and the lock stays', async () => {
      expect((await slash(h.app.url, `inject ${C1} shop`)).text).toMatch(/Queued run `(r[0-9a-z]+)`/);
      const prompt = await waitFor('the inject prompt', () =>
        latestThreadOf(h.sim, 'Sidecar injection on').find((m) => blocksText(m).includes(APPROVE_ACTION)),
      );
      const { ack } = await dryRun(h, `disable cluster ${C1}`, 'Disable Cloud Service Mesh on');
      expect(ack).toMatch(/Run `r[0-9a-z]+` is going on this cluster: the plan reads the world as it is now/);
      // The real run still holds the cluster: a second real run is refused, pointed at it.
      expect((await slash(h.app.url, `disable cluster ${C1}`)).text).toMatch(/A run is already going/);
      expect(await click(h.app.url, APPROVER, prompt)).toBe(200);
      await waitFor('the inject run to end', () =>
        latestThreadOf(h.sim, 'Sidecar injection on').find((m) => m.text.startsWith(':tada: Done.')),
      );
    });

    it('disable cluster unregister=true: plans every change the real run then makes', async () => {
      const title = 'Disable Cloud Service Mesh on';
      const command = `disable cluster ${C1} unregister=true`;
      const { plan } = await dryRun(h, command, title);
      expect(unique(listedCalls(plan))).toEqual([
        'PATCH /api/v1/namespaces/default',
        'PATCH /api/v1/namespaces/shop',
        'PATCH /apis/apps/v1/namespaces/default/deployments/web',
        'PATCH /apis/apps/v1/namespaces/shop/deployments/cart',
        'PATCH /apis/apps/v1/namespaces/shop/deployments/checkout',
        'PATCH /v1/projects/proj-a/locations/global/features/servicemesh',
        'DELETE /v1/projects/proj-a/locations/us-central1/memberships/c1',
        'POST /v1/projects/proj-a/locations/us-central1/clusters/c1:setResourceLabels',
      ]);
      expect(blocksText(plan)).toContain('mesh_id removed (env, team kept)');
      const { made, afterApproval, prompt } = await realRun(h, command, title);
      expect(unique(listedCalls(plan))).toEqual(made);
      expect(listedCalls(prompt)).toEqual(afterApproval);
      expect(await listMemberships(h.sim, 'proj-a')).toEqual([]);
    });
  });
});
