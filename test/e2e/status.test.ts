/**
 * `/mesh status`: acked at once, answered by a worker through the command's response_url with
 * what Google and the cluster say, and nothing changed anywhere while it looks.
 */
import type { SlackMessage } from '../../src/sim/index.js';
import {
  ask,
  click,
  enableAndApprove,
  hasButtons,
  latestThreadOf,
  runIdOf,
  slash,
} from '../support/flows.js';
import { APPROVER, startHarness, type Harness } from '../support/harness.js';
import { kubeFor } from '../support/inspect.js';
import { waitFor } from '../support/wait.js';

const C1 = 'proj-a/us-central1/c1';
/** The MeshConfig of C1's channel (REGULAR), as seed 003 leaves it: a tracer, no sampling, no access logs. */
const MESH_CONFIGMAP = 'istio-asm-managed';
const seedMesh = ['accessLogEncoding: JSON', 'defaultConfig:', '  tracing:', '    stackdriver: {}', ''].join(
  '\n',
);
const configHint = `\`/mesh config ${C1} access-log=on|off tracing=SAMPLING\``;

describe('/mesh status', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ scenario: 'default' });
    await enableAndApprove(h.app.url, h.sim, C1);
  });
  afterAll(async () => {
    await h?.stop();
  });

  function textOf(answer: { text: string; blocks?: unknown[] }): string {
    return `${answer.text}\n${JSON.stringify(answer.blocks ?? [])}`;
  }

  it('acks at once and shows an enabled cluster ACTIVE/ACTIVE with implementation, revision, namespaces and proxies', async () => {
    const mutations = h.sim.requests.mutations().length;
    const ack = await slash(h.app.url, `status ${C1}`);
    expect(ack.text).toContain(`Looking at \`${C1}\``);

    const answer = textOf(await ask(h.app.url, h.sim, `status ${C1}`));
    expect(answer).toContain(`Cloud Service Mesh on ${C1}: control plane ACTIVE, data plane ACTIVE`);
    expect(answer).toContain('Control plane: *ACTIVE* (REVISION_READY: Ready: asm-managed) — ISTIOD');
    expect(answer).toContain('Data plane: *ACTIVE* (OK: Service is running.)');
    expect(answer).toContain('MANAGEMENT_AUTOMATIC');
    expect(answer).toContain('REGULAR channel → asm-managed');
    expect(answer).toContain('`asm-managed` (regular, ready)');
    expect(answer).toContain('proxy 1.23.6-asm.14');
    expect(answer).toContain(
      'Injected namespaces: `default` (istio-injection=enabled), `shop` (istio-injection=enabled)',
    );
    expect(answer).toContain('Proxies: 1.23.6-asm.14 on 5 pod(s)');
    expect(answer).toMatch(/Last run `r[0-9a-z]+` \(enable-cluster\) \*succeeded\*/);
    expect(answer).toMatch(/<https:\/\/meshops-sim\.slack\.com\/archives\/C0MESH\/p\d+\|thread>/);
    // Looking changed nothing: no POST, PATCH, PUT or DELETE reached Google or Kubernetes.
    expect(h.sim.requests.mutations()).toHaveLength(mutations);
  });

  it('shows a failing condition with its code, its text and its link', async () => {
    h.sim.world.degradeMesh(C1);
    try {
      const answer = textOf(await ask(h.app.url, h.sim, `status ${C1}`));
      expect(answer).toContain('Control plane: *DEGRADED*');
      expect(answer).toContain('`MESH_IAM_PERMISSION_DENIED`');
      expect(answer).toContain('roles/anthosservicemesh.serviceAgent');
      expect(answer).toContain(
        '<https://cloud.google.com/service-mesh/docs/troubleshooting/troubleshoot-with-feature-state-condition#mesh_iam_permission_denied|docs>',
      );
    } finally {
      h.sim.world.recoverMesh(C1);
    }
  });

  it('says what to type for a cluster that is not registered, and for one that does not exist', async () => {
    const unregistered = textOf(await ask(h.app.url, h.sim, 'status proj-b/europe-west1/c2'));
    expect(unregistered).toContain('is not registered in the fleet of proj-b');
    expect(unregistered).toContain('`/mesh enable cluster proj-b/europe-west1/c2`');
    expect(unregistered).toContain('No meshops run for this cluster yet.');

    const missing = textOf(await ask(h.app.url, h.sim, 'status proj-a/us-central1/nosuch'));
    expect(missing).toContain('was not found in project proj-a');
    expect(missing).toContain('gcloud container clusters list --project proj-a');
  });

  it('tells the asker why when the world cannot be read, after trying again, and changes nothing', async () => {
    h.sim.faults.add({ api: 'container', status: 503, rate: 1 });
    const before = h.sim.faults.fired;
    const mutations = h.sim.requests.mutations().length;
    try {
      const answer = textOf(await ask(h.app.url, h.sim, `status ${C1}`));
      expect(answer).toContain(`:warning: Could not read the status of \`${C1}\``);
      expect(answer).toContain('The service is currently unavailable');
      expect(answer).toContain(`it kept failing, also when tried again: ask \`/mesh status ${C1}\` again`);
      expect(answer).toContain('Nothing was changed. UNAVAILABLE');
      // Each of the query's three attempts went through the adapter's own retries first.
      expect(h.sim.faults.fired - before).toBeGreaterThanOrEqual(3 * h.config.google.retry.attempts);
    } finally {
      h.sim.faults.clear();
    }
    expect(h.sim.requests.mutations()).toHaveLength(mutations);
    const healthy = textOf(await ask(h.app.url, h.sim, `status ${C1}`));
    expect(healthy).toContain('Control plane: *ACTIVE*');
  });

  /** The GETs of ConfigMaps in istio-system that reached C1 since `from`. */
  function configMapReads(from: number): string[] {
    return h.sim.requests
      .entries({ api: 'kubernetes', cluster: C1 })
      .slice(from)
      .filter((e) => e.method === 'GET' && e.path.startsWith('/api/v1/namespaces/istio-system/configmaps'))
      .map((e) => e.path);
  }

  describe('the mesh config (access logs, tracing)', () => {
    it('says briefly that the ConfigMap is not there yet, and shows the rest', async () => {
      const from = h.sim.requests.entries({ api: 'kubernetes', cluster: C1 }).length;
      const answer = textOf(await ask(h.app.url, h.sim, `status ${C1}`));
      expect(answer).toContain(
        'Mesh config: no ConfigMap `istio-system/istio-asm-managed` yet (not provisioned there yet): Istio defaults, access logs off.',
      );
      expect(answer).toContain('Control plane: *ACTIVE*');
      // One GET more per status: the ConfigMap of the cluster's channel, and no other.
      expect(configMapReads(from)).toEqual([`/api/v1/namespaces/istio-system/configmaps/${MESH_CONFIGMAP}`]);
    });

    it('shows access logs, sampling and tracer from the channel’s ConfigMap, with how to change them', async () => {
      const { core } = await kubeFor(h.sim, C1);
      await core.createNamespacedConfigMap({
        namespace: 'istio-system',
        body: { metadata: { name: MESH_CONFIGMAP }, data: { mesh: seedMesh } },
      });
      const from = h.sim.requests.entries({ api: 'kubernetes', cluster: C1 }).length;
      const answer = textOf(await ask(h.app.url, h.sim, `status ${C1}`));
      expect(answer).toContain(
        'Mesh config (`istio-system/istio-asm-managed`): access logs *off* · tracing sampling not set (Istio default 1%), tracer `stackdriver`.',
      );
      expect(answer).toContain(`To change: ${configHint}`);
      expect(configMapReads(from)).toEqual([`/api/v1/namespaces/istio-system/configmaps/${MESH_CONFIGMAP}`]);
    });

    it('shows the new settings after a /mesh config run, and status RUN_ID shows its diff as the prompt did', async () => {
      const title = `Mesh config on \`${C1}\``;
      expect((await slash(h.app.url, `config ${C1} access-log=on tracing=10`)).text).toMatch(
        /^:inbox_tray: Queued run/,
      );
      const prompt: SlackMessage = await waitFor('the approval prompt', () =>
        latestThreadOf(h.sim, title).find(hasButtons),
      );
      const runId = runIdOf(prompt);
      expect(await click(h.app.url, APPROVER, prompt)).toBe(200);
      await waitFor('the run to finish', () =>
        latestThreadOf(h.sim, title).find((m) => m.text.startsWith(':tada: Done.')),
      );

      const answer = textOf(await ask(h.app.url, h.sim, `status ${C1}`));
      expect(answer).toContain(
        'Mesh config (`istio-system/istio-asm-managed`): access logs *on* (`/dev/stdout`) · tracing sampling *10%*, tracer `stackdriver`.',
      );
      expect(answer).toContain(`To change: ${configHint}`);
      expect(answer).toMatch(new RegExp(`Last run \`${runId}\` \\(mesh-config\\) \\*succeeded\\*`));

      const run = textOf(await ask(h.app.url, h.sim, `status ${runId}`));
      expect(run).toContain(
        '*Mesh config*: `data.mesh` of ConfigMap `istio-system/istio-asm-managed` (read at resourceVersion',
      );
      expect(run).toContain(') — written.');
      expect(run).toContain('access logs off → on · tracing sampling not set → 10%. Before → after');
      expect(run).toContain('+     sampling: 10');
      expect(run).toContain('+ accessLogFile: /dev/stdout');
      // The very diff the approval prompt showed, from the run record.
      const diffOf = (text: string) => /```\\n([\s\S]*?)\\n```/.exec(text)?.[1];
      const shownInPrompt = diffOf(JSON.stringify(prompt.blocks));
      expect(shownInPrompt).toContain('stackdriver');
      expect(diffOf(run)).toBe(shownInPrompt);
    });

    it('answers with the rest when the ConfigMap cannot be read (403), saying that part could not be read', async () => {
      h.sim.faults.add({
        api: 'kubernetes',
        status: 403,
        rate: 1,
        pathIncludes: `/configmaps/${MESH_CONFIGMAP}`,
      });
      const mutations = h.sim.requests.mutations().length;
      try {
        const answer = textOf(await ask(h.app.url, h.sim, `status ${C1}`));
        expect(answer).toContain(`Cloud Service Mesh on ${C1}: control plane ACTIVE, data plane ACTIVE`);
        expect(answer).toContain('Injected namespaces: `default` (istio-injection=enabled)');
        expect(answer).toContain(
          ':warning: Mesh config: ConfigMap `istio-system/istio-asm-managed` could not be read (',
        );
        expect(answer).toContain('the rest of this status is not affected.');
        expect(answer).not.toContain('access logs *');
        expect(answer).not.toContain('Could not read the status');
        expect(answer).not.toContain("The cluster's API server could not be read");
      } finally {
        h.sim.faults.clear();
      }
      expect(h.sim.requests.mutations()).toHaveLength(mutations);
    });

    it('answers with the rest when the ConfigMap read keeps failing (503), after the adapter’s retries', async () => {
      h.sim.faults.add({
        api: 'kubernetes',
        status: 503,
        rate: 1,
        pathIncludes: `/configmaps/${MESH_CONFIGMAP}`,
      });
      try {
        const answer = textOf(await ask(h.app.url, h.sim, `status ${C1}`));
        expect(answer).toContain('Control plane: *ACTIVE*');
        expect(answer).toContain(
          ':warning: Mesh config: ConfigMap `istio-system/istio-asm-managed` could not be read (',
        );
        expect(answer).not.toContain('Could not read the status');
      } finally {
        h.sim.faults.clear();
      }
      const healthy = textOf(await ask(h.app.url, h.sim, `status ${C1}`));
      expect(healthy).toContain('access logs *on*');
    });
  });

  it('refuses a malformed reference at once and queues nothing', async () => {
    const ack = await slash(h.app.url, 'status proj-a/us-central1');
    expect(ack.text).toContain('is not a cluster reference');
    expect(ack.text).toContain('Nothing was started');
    const extra = await slash(h.app.url, `status ${C1} now`);
    expect(extra.text).toContain('`status` takes one cluster or run id');
  });
});
