/**
 * `/mesh status`: acked at once, answered by a worker through the command's response_url with
 * what Google and the cluster say, and nothing changed anywhere while it looks.
 */
import { ask, enableAndApprove, slash } from '../support/flows.js';
import { startHarness, type Harness } from '../support/harness.js';

const C1 = 'proj-a/us-central1/c1';

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

  it('refuses a malformed reference at once and queues nothing', async () => {
    const ack = await slash(h.app.url, 'status proj-a/us-central1');
    expect(ack.text).toContain('is not a cluster reference');
    expect(ack.text).toContain('Nothing was started');
    const extra = await slash(h.app.url, `status ${C1} now`);
    expect(extra.text).toContain('`status` takes one cluster or run id');
  });
});
