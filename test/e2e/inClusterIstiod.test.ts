/**
 * A cluster with an asmcli-installed in-cluster control plane (seed 002), end to end over the
 * emulator: status lists the istiod revisions and which namespaces use which; enable cluster
 * provisions the managed control plane, says so before any change and leaves the namespaces on an
 * in-cluster revision as they are; inject moves one namespace to the managed revision, step by step.
 */
import type { SlackMessage } from '../../src/sim/index.js';
import { APPROVE_ACTION } from '../../src/slack/render.js';
import { ask, click, latestThreadOf, slash } from '../support/flows.js';
import { APPROVER, CHANNEL, startHarness, type Harness } from '../support/harness.js';
import { kubeFor } from '../support/inspect.js';
import { waitFor } from '../support/wait.js';

const C1 = 'proj-a/us-central1/c1';

function textOf(message: { text: string; blocks?: unknown[] }): string {
  return `${message.text}\n${JSON.stringify(message.blocks ?? [])}`;
}

describe('a cluster with an in-cluster istiod (seed 002)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ scenario: 'in-cluster-istiod' });
    // A namespace on no revision yet, asked for together with one on an in-cluster revision.
    h.sim.world.cluster(C1)!.addNamespace({ name: 'tools', deployments: [{ name: 'toolbox' }] });
  });
  afterAll(async () => {
    await h?.stop();
  });

  /** A namespace's labels and pods, read back with kubectl's client. */
  async function namespace(name: string) {
    const { core } = await kubeFor(h.sim, C1);
    const labels = (await core.readNamespace({ name })).metadata?.labels ?? {};
    const pods = (await core.listNamespacedPod({ namespace: name })).items.filter(
      (p) => p.status?.phase === 'Running' || p.status?.phase === 'Pending',
    );
    return {
      labels,
      names: pods.map((p) => p.metadata?.name).sort(),
      proxies: pods.map(
        (p) =>
          [...(p.spec?.containers ?? []), ...(p.spec?.initContainers ?? [])].find(
            (c) => c.name === 'istio-proxy',
          )?.image ?? null,
      ),
      revisions: pods.map(
        (p) =>
          (JSON.parse(p.metadata?.annotations?.['sidecar.istio.io/status'] ?? '{}') as { revision?: string })
            .revision ?? null,
      ),
    };
  }

  /** The thread of the newest run whose root names `title`, and its prompt once there. */
  const thread = (title: string): SlackMessage[] => latestThreadOf(h.sim, title);
  const promptOf = (title: string) =>
    waitFor('the approval prompt', () =>
      thread(title).find((m) => JSON.stringify(m.blocks ?? []).includes(APPROVE_ACTION)),
    );
  const doneOf = (title: string) =>
    waitFor('the run to succeed', () => thread(title).find((m) => m.text.startsWith(':tada: Done.')), 60_000);

  it('status lists both in-cluster revisions with their istiod, and which namespace uses which with its proxies', async () => {
    const mutations = h.sim.requests.mutations().length;
    const answer = textOf(await ask(h.app.url, h.sim, `status ${C1}`));
    expect(answer).toContain('is not registered in the fleet of proj-a');
    expect(answer).toContain('*Istiod revisions*, and the namespaces on each');
    expect(answer).toContain(
      '• `asm-1115-3` — in-cluster istiod `istiod-asm-1115-3` 1.11.5-asm.3, 2/2 ready: `default` (proxy 1.11.5-asm.3 on 2 pod(s))',
    );
    expect(answer).toContain(
      '• `asm-1125-2` — in-cluster istiod `istiod-asm-1125-2` 1.12.5-asm.2, 1/1 ready: `shop` (proxy 1.12.5-asm.2 on 3 pod(s))',
    );
    expect(answer).toContain(
      `• \`asm-managed\` — managed, not provisioned (\`/mesh enable cluster ${C1}\`): no namespace`,
    );
    expect(answer).toContain('provisions it next to the in-cluster istiod (which keeps serving)');
    expect(h.sim.requests.mutations()).toHaveLength(mutations);
  });

  it('enable cluster says so before any change, provisions the managed control plane and leaves the in-cluster namespace unmixed', async () => {
    const before = await namespace('default');
    h.sim.requests.clear();
    expect((await slash(h.app.url, `enable cluster ${C1} namespaces=default,tools`)).text).toMatch(
      /Queued run/,
    );
    const title = `Enable Cloud Service Mesh on \`${C1}\``;
    const explained = await waitFor('the in-cluster explanation', () =>
      thread(title).find((m) => m.text.startsWith(':warning: *In-cluster control plane found*')),
    );
    // Said in the preflight, before the first change anywhere (the fleet registration).
    const registered = thread(title).findIndex((m) => m.text.startsWith(':link: Registered'));
    expect(registered < 0 || registered > thread(title).indexOf(explained)).toBe(true);
    expect(explained.text).toContain(
      '• `asm-1115-3`: `istiod-asm-1115-3` 1.11.5-asm.3, 2/2 ready — serves `default`',
    );
    expect(explained.text).toContain('asked for here and left as they are: `default`');
    expect(explained.text).toContain(
      `\`/mesh inject ${C1} namespaces=default\` (\`istio.io/rev=asm-1115-3\` → \`istio.io/rev=asm-managed\`)`,
    );
    expect(explained.text).toContain(
      `\`/mesh inject ${C1} namespaces=shop\` (\`istio.io/rev=asm-1125-2\` → \`istio.io/rev=asm-managed\`)`,
    );
    expect(explained.text).toContain(
      '`kubectl get namespaces -l istio.io/rev=asm-1115-3` lists none, then `istioctl uninstall --revision asm-1115-3 -y`',
    );

    const prompt = await promptOf(title);
    const summary = textOf(prompt);
    expect(summary).toContain('Set `istio.io/rev=asm-managed`, remove `istio-injection`');
    expect(summary).toContain('*Not relabelled by this run*');
    expect(summary).toContain(
      `\`default\` stays on \`istio.io/rev=asm-1115-3\`; later \`istio.io/rev=asm-1115-3\` → \`istio.io/rev=asm-managed\` with \`/mesh inject ${C1} namespaces=default\`, 2 pod(s) restart then`,
    );
    expect(await click(h.app.url, APPROVER, prompt)).toBe(200);
    const done = await doneOf(title);
    expect(done.text).toContain('`tools` labelled `istio.io/rev=asm-managed`');
    expect(done.text).toContain('`default` left on the in-cluster revision `asm-1115-3`, not relabelled');

    // One revision label per namespace: default as it was, untouched; tools on the managed revision.
    const after = await namespace('default');
    expect(after.labels).toEqual(before.labels);
    expect(after.labels).not.toHaveProperty('istio-injection');
    expect(after.names).toEqual(before.names);
    expect(h.sim.requests.mutations({ api: 'kubernetes' }).map((m) => m.path)).not.toContain(
      '/api/v1/namespaces/default',
    );
    const tools = await namespace('tools');
    expect(tools.labels['istio.io/rev']).toBe('asm-managed');
    expect(tools.labels).not.toHaveProperty('istio-injection');
    expect(tools.revisions).toEqual(['asm-managed']);
  });

  it('inject refuses to move a namespace while the managed control plane is not ACTIVE, changing nothing', async () => {
    h.sim.world.degradeMesh(C1);
    try {
      const mutations = h.sim.requests.mutations().length;
      expect((await slash(h.app.url, `inject ${C1} namespaces=default`)).text).toMatch(/Queued run/);
      const failed = await waitFor('the refusal', () =>
        thread(`Sidecar injection on \`${C1}\``).find((m) => m.text.startsWith(':x: Failed at')),
      );
      expect(failed.text).toContain(
        `\`default\` (asm-1115-3) cannot move to the managed control plane of ${C1} yet: its managed control plane is DEGRADED, not ACTIVE`,
      );
      expect(failed.text).toContain('It stays on its in-cluster revision, which keeps serving it');
      expect(failed.text).toContain(`\`/mesh inject ${C1} namespaces=default\` again`);
      expect(h.sim.requests.mutations()).toHaveLength(mutations);
    } finally {
      h.sim.world.recoverMesh(C1);
      // Workers share one servicemesh feature read for a poll interval (100 ms here): let the degraded one age out.
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  });

  it('a dry run of inject shows the relabel and changes nothing', async () => {
    const mutations = h.sim.requests.mutations().length;
    const ack = (await slash(h.app.url, `inject ${C1} namespaces=default dry-run=true`)).text;
    const runId = /Queued dry run `(r[0-9a-z]+)`/.exec(ack)?.[1];
    expect(runId).toBeDefined();
    const plan = await waitFor('the dry run’s plan', () =>
      h.sim.slack
        .messages(CHANNEL)
        .find((m) => m.text.startsWith('Dry run of') && textOf(m).includes(`Dry run \`${runId}\``)),
    );
    const text = textOf(plan);
    expect(text).toContain(
      'relabel namespace default: istio.io/rev=asm-managed set, istio-injection removed',
    );
    expect(text).toContain('restart Deployment web in default');
    expect(h.sim.requests.mutations()).toHaveLength(mutations);
    expect((await namespace('default')).labels['istio.io/rev']).toBe('asm-1115-3');
  });

  it('inject moves one namespace: relabelled in one patch after approval, restarted onto the managed proxy; the other untouched', async () => {
    const shopBefore = await namespace('shop');
    h.sim.requests.clear();
    expect((await slash(h.app.url, `inject ${C1} namespaces=default`)).text).toMatch(/Queued run/);
    const title = `Sidecar injection on \`${C1}\``;
    const prompt = await promptOf(title);
    const summary = textOf(prompt);
    expect(summary).toContain(
      '`default`: 2 pod(s), 1 workload(s) — relabel `istio.io/rev=asm-1115-3` → `istio.io/rev=asm-managed` (off the in-cluster istiod)',
    );
    expect(summary).toContain(
      'After this no namespace uses `asm-1115-3`: the last step is yours, remove it:',
    );
    expect(summary).toContain('`istioctl uninstall --revision asm-1115-3 -y`');
    expect(summary).toContain(
      'kubectl delete deployment,service,horizontalpodautoscaler,poddisruptionbudget istiod-asm-1115-3 -n istio-system --ignore-not-found',
    );
    expect(summary).toContain('Still on an in-cluster revision after this: `shop` (asm-1125-2)');
    expect(h.sim.requests.mutations()).toEqual([]);

    expect(await click(h.app.url, APPROVER, prompt)).toBe(200);
    const done = await doneOf(title);
    expect(done.text).toContain('`default` labelled `istio.io/rev=asm-managed`; 2 pod(s) with istio-proxy');
    expect(done.text).toContain(
      'no namespace uses `asm-1115-3` any more: remove it with `istioctl uninstall --revision asm-1115-3 -y`',
    );
    expect(thread(title).map((m) => m.text)).toContainEqual(
      expect.stringContaining('off the in-cluster istiod: `default` was on `asm-1115-3`'),
    );

    // One merge-patch: the old revision replaced, istio-injection removed, nothing else.
    const patches = h.sim.requests
      .mutations({ api: 'kubernetes' })
      .filter((m) => m.path === '/api/v1/namespaces/default');
    expect(patches).toHaveLength(1);
    const moved = await namespace('default');
    expect(moved.labels['istio.io/rev']).toBe('asm-managed');
    expect(moved.labels).not.toHaveProperty('istio-injection');
    expect(moved.revisions).toEqual(['asm-managed', 'asm-managed']);
    expect(moved.proxies).toEqual([
      'gcr.io/gke-release/asm/proxyv2:1.23.6-asm.14',
      'gcr.io/gke-release/asm/proxyv2:1.23.6-asm.14',
    ]);
    // The other namespace: same labels, same pods, same in-cluster sidecars.
    const shop = await namespace('shop');
    expect(shop).toEqual(shopBefore);
    expect(shop.revisions).toEqual(['asm-1125-2', 'asm-1125-2', 'asm-1125-2']);

    const status = textOf(await ask(h.app.url, h.sim, `status ${C1}`));
    expect(status).toContain(
      '• `asm-1115-3` — in-cluster istiod `istiod-asm-1115-3` 1.11.5-asm.3, 2/2 ready: no namespace',
    );
    expect(status).toContain(
      '• `asm-managed` — managed, control plane ACTIVE, data plane ACTIVE: `default` (proxy 1.23.6-asm.14 on 2 pod(s)), `tools` (proxy 1.23.6-asm.14 on 1 pod(s))',
    );
  });
});
