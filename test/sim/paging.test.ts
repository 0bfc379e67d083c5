import { startSim, type Sim } from '../../src/sim/index.js';
import { kubeApis, kubeErrorCode, kubeRequest, type Json, type KubeApis } from './helpers.js';

const REF = 'proj-p/us-central1/paged';

interface ListBody {
  metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number };
  items: Array<{ metadata: { name: string; namespace?: string } }>;
}

function asList(body: Json): ListBody {
  return body as unknown as ListBody;
}

describe('sim: Kubernetes list paging', () => {
  let sim: Sim;
  let apis: KubeApis;

  beforeAll(async () => {
    sim = await startSim({
      scenario: {
        projects: [{ id: 'proj-p', number: '444455556666' }],
        clusters: [
          {
            project: 'proj-p',
            location: 'us-central1',
            name: 'paged',
            namespaces: [
              { name: 'zeta', deployments: [{ name: 'z', replicas: 2 }] },
              {
                name: 'many',
                deployments: [
                  { name: 'b', replicas: 4 },
                  { name: 'a', replicas: 3 },
                ],
              },
              { name: 'alpha', deployments: [{ name: 'y', replicas: 1 }] },
            ],
          },
        ],
      },
    });
    sim.clock.pause();
    apis = kubeApis(sim, REF);
  });
  afterAll(() => sim.close());

  it('pages pods with limit and continue, in name order, with remainingItemCount, until no token is left', async () => {
    const first = await apis.core.listNamespacedPod({ namespace: 'many', limit: 3 });
    expect(first.items).toHaveLength(3);
    expect(first.metadata?.remainingItemCount).toBe(4);
    expect(first.metadata?._continue).toEqual(expect.any(String));

    const second = await apis.core.listNamespacedPod({
      namespace: 'many',
      limit: 3,
      _continue: first.metadata?._continue ?? '',
    });
    expect(second.items).toHaveLength(3);
    expect(second.metadata?.remainingItemCount).toBe(1);
    // Every page reports the resourceVersion of the first, as one consistent list.
    expect(second.metadata?.resourceVersion).toBe(first.metadata?.resourceVersion);

    const third = await apis.core.listNamespacedPod({
      namespace: 'many',
      limit: 3,
      _continue: second.metadata?._continue ?? '',
    });
    expect(third.items).toHaveLength(1);
    expect(third.metadata?._continue).toBeUndefined();
    expect(third.metadata?.remainingItemCount).toBeUndefined();

    const paged = [...first.items, ...second.items, ...third.items].map((p) => p.metadata?.name ?? '');
    const whole = (await apis.core.listNamespacedPod({ namespace: 'many' })).items.map(
      (p) => p.metadata?.name,
    );
    expect(paged).toEqual([...paged].sort());
    expect([...paged].sort()).toEqual([...whole].sort());
    expect(new Set(paged).size).toBe(7);
  });

  it('orders a cluster-wide page by namespace, then name, and resumes after the last item returned', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await apis.core.listPodForAllNamespaces({
        limit: 4,
        ...(token ? { _continue: token } : {}),
      });
      seen.push(...page.items.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`));
      token = page.metadata?._continue;
    } while (token);
    expect(seen).toHaveLength(10);
    expect(seen.slice(0, 1)).toEqual([expect.stringMatching(/^alpha\/y-/)]);
    expect(seen.slice(-2)).toEqual([expect.stringMatching(/^zeta\/z-/), expect.stringMatching(/^zeta\/z-/)]);
    const keys = seen.map((key) => key.split('/'));
    expect(keys).toEqual(
      [...keys].sort(
        (a, b) => (a[0] ?? '').localeCompare(b[0] ?? '') || (a[1] ?? '').localeCompare(b[1] ?? ''),
      ),
    );

    // Cluster-scoped objects page by name.
    const namespaces = await apis.core.listNamespace({ limit: 2 });
    expect(namespaces.items.map((n) => n.metadata?.name)).toEqual(['alpha', 'many']);
    expect(namespaces.metadata?.remainingItemCount).toBe(1);
    const rest = await apis.core.listNamespace({
      limit: 10,
      _continue: namespaces.metadata?._continue ?? '',
    });
    expect(rest.items.map((n) => n.metadata?.name)).toEqual(['zeta']);
    expect(rest.metadata?._continue).toBeUndefined();
  });

  it('keeps the creation order of an unpaged list, and applies selectors before paging', async () => {
    const whole = await apis.core.listNamespace();
    expect(whole.items.map((n) => n.metadata?.name)).toEqual(['zeta', 'many', 'alpha']);
    expect(whole.metadata?._continue).toBeUndefined();

    const selected = await apis.core.listNamespacedPod({
      namespace: 'many',
      labelSelector: 'app=a',
      limit: 2,
    });
    expect(selected.items.map((p) => p.metadata?.labels?.app)).toEqual(['a', 'a']);
    expect(selected.metadata?.remainingItemCount).toBe(1);
    const deployments = await apis.apps.listNamespacedDeployment({ namespace: 'many', limit: 1 });
    expect(deployments.items.map((d) => d.metadata?.name)).toEqual(['a']);
    const next = await apis.apps.listNamespacedDeployment({
      namespace: 'many',
      limit: 1,
      _continue: deployments.metadata?._continue ?? '',
    });
    expect(next.items.map((d) => d.metadata?.name)).toEqual(['b']);
    expect(next.metadata?._continue).toBeUndefined();
    const events = await apis.core.listNamespacedEvent({ namespace: 'many', limit: 5 });
    expect(events.items).toHaveLength(5);
    expect(events.metadata?.remainingItemCount).toBe(2);
  });

  it('answers 400 BadRequest for a malformed token, a token of another list, or a bad limit', async () => {
    const garbage = await kubeRequest(
      sim,
      REF,
      'GET',
      '/api/v1/namespaces/many/pods?limit=2&continue=%25%25not-base64',
    );
    expect(garbage.status).toBe(400);
    expect(garbage.body).toMatchObject({ kind: 'Status', reason: 'BadRequest', code: 400 });
    expect(String(garbage.body.message)).toMatch(/^continue key is not valid/);

    const notJson = Buffer.from('hello').toString('base64url');
    expect((await kubeRequest(sim, REF, 'GET', `/api/v1/pods?limit=1&continue=${notJson}`)).status).toBe(400);

    const podPage = asList((await kubeRequest(sim, REF, 'GET', '/api/v1/pods?limit=1')).body);
    const foreign = await kubeErrorCode(
      apis.core.listNamespace({ limit: 1, _continue: podPage.metadata.continue ?? '' }),
    );
    expect(foreign.code).toBe(400);

    const badLimit = await kubeRequest(sim, REF, 'GET', '/api/v1/pods?limit=many');
    expect(badLimit.status).toBe(400);
    // limit=0 means no limit.
    expect(asList((await kubeRequest(sim, REF, 'GET', '/api/v1/pods?limit=0')).body).items).toHaveLength(10);
  });

  it('answers 410 Expired for a token older than etcd keeps its revision', async () => {
    const first = asList((await kubeRequest(sim, REF, 'GET', '/api/v1/namespaces/many/pods?limit=2')).body);
    const token = first.metadata.continue ?? '';
    sim.clock.advance(4 * 60_000);
    const inTime = await kubeRequest(
      sim,
      REF,
      'GET',
      `/api/v1/namespaces/many/pods?limit=2&continue=${token}`,
    );
    expect(inTime.status).toBe(200);
    sim.clock.advance(60_001);
    const expired = await kubeRequest(
      sim,
      REF,
      'GET',
      `/api/v1/namespaces/many/pods?limit=2&continue=${token}`,
    );
    expect(expired.status).toBe(410);
    expect(expired.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Expired', code: 410 });
    const typed = await kubeErrorCode(
      apis.core.listNamespacedPod({ namespace: 'many', limit: 2, _continue: token }),
    );
    expect(typed.code).toBe(410);
  });
});
