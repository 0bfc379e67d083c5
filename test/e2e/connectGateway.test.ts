/**
 * Private clusters through Connect Gateway, end to end: a cluster with only a private endpoint (which
 * refuses every connection) is onboarded, looked at and injected with every Kubernetes call going to
 * `/v1/projects/NUMBER/locations/LOC/gkeMemberships/NAME/...`; `kube.access: direct` still goes straight
 * to the endpoint.
 */
import { namedScenario } from '../../src/sim/scenarios.js';
import type { RequestEntry, Scenario } from '../../src/sim/index.js';
import {
  ask,
  click,
  enableAndApprove,
  slash,
  threadOf,
  waitForPrompt,
  waitForReply,
} from '../support/flows.js';
import { APPROVER, startHarness, type Harness } from '../support/harness.js';
import { waitFor } from '../support/wait.js';

const C1 = 'proj-a/us-central1/c1';
const NUMBER = '123456789012';
const GATEWAY_PREFIX = `/v1/projects/${NUMBER}/locations/us-central1/gkeMemberships/c1/`;

/** The default world with c1's control plane reachable only at its private endpoint. */
function privateC1(): Scenario {
  const scenario = namedScenario('default');
  return {
    ...scenario,
    clusters: scenario.clusters.map((c) => (c.name === 'c1' ? { ...c, privateEndpoint: true } : c)),
  };
}

function textOf(answer: { text: string; blocks?: unknown[] }): string {
  return `${answer.text}\n${JSON.stringify(answer.blocks ?? [])}`;
}

function labelsIn(h: Harness, ref: string, namespace: string): Record<string, string> {
  return { ...h.sim.world.cluster(ref)?.namespace(namespace)?.labels };
}

describe('a private cluster, through Connect Gateway', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ scenario: privateC1() });
  });
  afterAll(async () => {
    await h?.stop();
  });

  function gatewayCalls(): RequestEntry[] {
    return h.sim.requests.entries({ api: 'connectgateway', cluster: C1 });
  }

  it('is onboarded end to end with every Kubernetes call through the gateway, none to its private endpoint', async () => {
    await enableAndApprove(h.app.url, h.sim, C1);

    expect(labelsIn(h, C1, 'shop')['istio-injection']).toBe('enabled');
    expect(labelsIn(h, C1, 'default')['istio-injection']).toBe('enabled');
    const pods = h.sim.world.cluster(C1)!.pods.filter((p) => p.namespace === 'shop');
    expect(pods.length).toBeGreaterThan(0);

    const calls = gatewayCalls();
    // Reads, the label patches and the restarts: all under the membership's gateway path, with the
    // project NUMBER and the membership's location.
    expect(calls.length).toBeGreaterThan(5);
    for (const call of calls) expect(call.path.startsWith(GATEWAY_PREFIX)).toBe(true);
    expect(calls.map((c) => `${c.method} ${c.path.slice(GATEWAY_PREFIX.length - 1)}`)).toEqual(
      expect.arrayContaining([
        'GET /api/v1/namespaces',
        'PATCH /api/v1/namespaces/shop',
        'PATCH /apis/apps/v1/namespaces/shop/deployments/cart',
      ]),
    );
    expect(calls.every((c) => c.status < 400)).toBe(true);
    // Nothing reached (or even tried) the cluster's own endpoint: no request, no refused connection.
    expect(h.sim.requests.count({ api: 'kubernetes', cluster: C1 })).toBe(0);

    // The namespaces could be checked only once c1 was a fleet member: the first gateway call comes after
    // the registration, and before the mesh_id label.
    const all = h.sim.requests.entries();
    const registered = all.findIndex(
      (e) => e.api === 'gkehub' && e.method === 'POST' && e.path.endsWith('/memberships'),
    );
    const firstGateway = all.findIndex((e) => e.api === 'connectgateway');
    const labelled = all.findIndex((e) => e.api === 'container' && e.path.endsWith(':setResourceLabels'));
    expect(registered).toBeGreaterThanOrEqual(0);
    expect(firstGateway).toBeGreaterThan(registered);
    expect(labelled).toBeGreaterThan(firstGateway);
  });

  it('answers /mesh status through the gateway', async () => {
    const before = gatewayCalls().length;
    const answer = textOf(await ask(h.app.url, h.sim, `status ${C1}`));
    expect(answer).toContain(`Cloud Service Mesh on ${C1}: control plane ACTIVE, data plane ACTIVE`);
    expect(answer).toContain(
      'Injected namespaces: `default` (istio-injection=enabled), `shop` (istio-injection=enabled)',
    );
    expect(answer).not.toContain('could not be read');
    expect(gatewayCalls().length).toBeGreaterThan(before);
    expect(h.sim.requests.count({ api: 'kubernetes', cluster: C1 })).toBe(0);
  });

  it('injects a further namespace through the gateway', async () => {
    h.sim.world.cluster(C1)!.addNamespace({
      name: 'extra',
      deployments: [{ name: 'api', replicas: 1, image: 'us-docker.pkg.dev/meshops-sim/apps/api:1.0' }],
    });
    const before = gatewayCalls().length;
    expect((await slash(h.app.url, `inject ${C1} extra`)).text).toMatch(/Queued run/);
    const title = 'Sidecar injection on';
    const prompt = await waitForPrompt(h.sim, title);
    expect(await click(h.app.url, APPROVER, prompt)).toBe(200);
    await waitForReply(h.sim, ':tada: Done.', title);
    expect(labelsIn(h, C1, 'extra')['istio-injection']).toBe('enabled');
    const patches = gatewayCalls()
      .slice(before)
      .filter((c) => c.method === 'PATCH')
      .map((c) => c.path);
    expect(patches).toEqual([
      `${GATEWAY_PREFIX}api/v1/namespaces/extra`,
      `${GATEWAY_PREFIX}apis/apps/v1/namespaces/extra/deployments/api`,
    ]);
    expect(h.sim.requests.count({ api: 'kubernetes', cluster: C1 })).toBe(0);
  });

  it('registers a new private cluster before checking its namespaces, and stops there if one is missing', async () => {
    const P2 = 'proj-a/us-central1/p2';
    await h.sim.world.addCluster({
      project: 'proj-a',
      location: 'us-central1',
      name: 'p2',
      privateEndpoint: true,
      resourceLabels: { env: 'dev' },
    });
    expect((await slash(h.app.url, `enable cluster ${P2} namespaces=default,nope`)).text).toMatch(
      /Queued run/,
    );
    const failed = await waitFor('the run to fail', () =>
      threadOf(h.sim, P2).find((m) => m.text.startsWith(':x: Failed')),
    );
    expect(failed.text).toContain('nope');
    expect(failed.text).toContain(
      'registered in the fleet as projects/proj-a/locations/us-central1/memberships/p2',
    );
    // The namespaces were read through the gateway; nothing after the registration was done.
    expect(
      h.sim.requests.entries({ api: 'connectgateway', cluster: P2 }).map((c) => `${c.method} ${c.path}`),
    ).toEqual([`GET /v1/projects/${NUMBER}/locations/us-central1/gkeMemberships/p2/api/v1/namespaces`]);
    expect(h.sim.world.cluster(P2)!.resourceLabels).toEqual({ env: 'dev' });
    expect(h.sim.requests.count({ api: 'kubernetes', cluster: P2 })).toBe(0);
  });

  it('dry-runs a new private cluster up to what only its registration makes readable, and says so', async () => {
    const P3 = 'proj-a/us-central1/p3';
    await h.sim.world.addCluster({
      project: 'proj-a',
      location: 'us-central1',
      name: 'p3',
      privateEndpoint: true,
    });
    h.sim.requests.clear();
    expect((await slash(h.app.url, `enable cluster ${P3} namespaces=default dry-run=true`)).text).toMatch(
      /Queued dry run/,
    );
    const plan = await waitFor('the plan', () =>
      threadOf(h.sim, P3).find((m) => m.text.startsWith(`Dry run of /mesh enable cluster ${P3}`)),
    );
    // Not a blocker: a real run would go on. The plan lists what comes before the gateway can reach p3
    // (register, label, management; the fleet's feature too, unless c1's run created it first).
    expect(plan.text).toMatch(
      new RegExp(
        `^Dry run of /mesh enable cluster ${P3} namespaces=default: at least [34] change\\(s\\) planned, nothing changed$`,
      ),
    );
    const text = textOf(plan);
    expect(text).toContain(
      'up to *Plan sidecar injection*, which it could not plan before the changes above are made',
    );
    expect(text).toContain(
      '*Plan sidecar injection*\\n• :heavy_minus_sign: not planned, and the steps after it neither',
    );
    expect(text).toContain('is reached only through Connect Gateway (it has only a private endpoint)');
    expect(text).toContain('a real run registers it, checks the namespaces asked for');
    expect(text).toContain('POST /v1/projects/proj-a/locations/us-central1/memberships?membershipId=p3');
    expect(text).toContain('POST /v1/projects/proj-a/locations/us-central1/clusters/p3:setResourceLabels');
    expect(text).toContain(
      'set mesh.management=MANAGEMENT_AUTOMATIC for projects/proj-a/locations/us-central1/memberships/p3',
    );
    expect(text).not.toContain('FAILED_PRECONDITION');
    // Nothing changed, and the gateway was not asked for a membership it cannot know.
    expect(h.sim.requests.mutations()).toEqual([]);
    expect(h.sim.requests.count({ api: 'connectgateway', cluster: P3 })).toBe(0);
    expect(h.sim.requests.count({ api: 'kubernetes', cluster: P3 })).toBe(0);
    expect([...h.sim.world.memberships.keys()].some((key) => key.endsWith('/memberships/p3'))).toBe(false);
    const runId = /Dry run `(\w+)`/.exec(text)?.[1];
    const status = textOf(await ask(h.app.url, h.sim, `status ${runId}`));
    expect(status).toContain('Dry run done: nothing was changed');
    expect(status).toContain('Plan sidecar injection — not planned (see the plan)');
    expect(status).toContain(
      'not planned, and the steps after it neither: proj-a/us-central1/p3 is reached only through Connect Gateway',
    );
  });
});

describe('kube.access: direct', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ scenario: 'default' }, { config: { kube: { access: 'direct' } } });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('reaches a public cluster at its endpoint, never through the gateway', async () => {
    await enableAndApprove(h.app.url, h.sim, C1, 'shop');
    expect(labelsIn(h, C1, 'shop')['istio-injection']).toBe('enabled');
    expect(h.sim.requests.count({ api: 'kubernetes', cluster: C1 })).toBeGreaterThan(5);
    expect(h.sim.requests.count({ api: 'connectgateway' })).toBe(0);
  });

  it('does not turn to the gateway for a private cluster: its endpoint refuses, and status says so', async () => {
    h.sim.world.setPrivateEndpoint(C1, true);
    const answer = textOf(await ask(h.app.url, h.sim, `status ${C1}`));
    expect(answer).toContain("The cluster's API server could not be read");
    expect(answer).toContain('ECONNRESET');
    expect(
      h.sim.requests.entries({ api: 'kubernetes', cluster: C1 }).filter((e) => e.method === 'CONNECT').length,
    ).toBeGreaterThan(0);
    expect(h.sim.requests.count({ api: 'connectgateway' })).toBe(0);
  });
});
