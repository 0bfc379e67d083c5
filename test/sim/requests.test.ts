import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { LogLevel, WebClient } from '@slack/web-api';
import { ScaledClock } from '../../src/sim/clock.js';
import { RequestLog, startSim, type Sim } from '../../src/sim/index.js';
import { call, kubeApis, kubeRequest, type KubeApis } from './helpers.js';

const C1 = 'proj-a/us-central1/c1';
const C2 = 'proj-b/europe-west1/c2';
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

describe('sim: request log', () => {
  let sim: Sim;
  let apis: KubeApis;
  let slack: WebClient;

  beforeAll(async () => {
    sim = await startSim();
    sim.clock.pause();
    apis = kubeApis(sim, C1);
    slack = new WebClient(sim.slackToken, {
      slackApiUrl: sim.urls.slack,
      retryConfig: { retries: 0 },
      logLevel: LogLevel.ERROR,
    });
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.requests.clear());
  afterEach(() => sim.faults.clear());

  it('records every server’s requests with api, method, path, raw query, status and both clocks', async () => {
    const before = Date.now();
    await call(sim, 'gkehub', 'GET', 'v1/projects/proj-a/locations/-/memberships');
    await call(sim, 'container', 'GET', 'v1/projects/proj-a/locations/us-central1/clusters/c1?$alt=json');
    await call(sim, 'serviceusage', 'GET', 'v1/projects/proj-a/services/mesh.googleapis.com');
    await call(sim, 'resourcemanager', 'GET', 'v3/projects/proj-a');
    await apis.core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=cart', limit: 1 });
    await kubeApis(sim, C2).core.listNamespace();
    await slack.auth.test();

    const entries = sim.requests.entries();
    expect(entries.map((e) => [e.api, e.method, e.path, e.status])).toEqual([
      ['gkehub', 'GET', '/v1/projects/proj-a/locations/-/memberships', 200],
      ['container', 'GET', '/v1/projects/proj-a/locations/us-central1/clusters/c1', 200],
      ['serviceusage', 'GET', '/v1/projects/proj-a/services/mesh.googleapis.com', 200],
      ['resourcemanager', 'GET', '/v3/projects/proj-a', 200],
      ['kubernetes', 'GET', '/api/v1/namespaces/shop/pods', 200],
      ['kubernetes', 'GET', '/api/v1/namespaces', 200],
      ['slack', 'POST', '/api/auth.test', 200],
    ]);
    expect(entries[1]?.query).toBe('$alt=json');
    // The raw query string, as the client encoded it.
    expect(entries[4]?.query).toContain('labelSelector=app%3Dcart');
    expect(Object.fromEntries(new URLSearchParams(entries[4]?.query ?? ''))).toEqual({
      labelSelector: 'app=cart',
      limit: '1',
    });
    expect(entries.map((e) => e.cluster)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      C1,
      C2,
      undefined,
    ]);
    for (const entry of entries) {
      expect(entry.at).toBe(sim.clock.now());
      expect(entry.wallAt).toBeGreaterThanOrEqual(before);
      expect(entry.wallAt).toBeLessThanOrEqual(Date.now());
    }
  });

  it('records what faults, the auth check and unknown routes answered', async () => {
    sim.faults.add({ api: 'gkehub', status: 429, retryAfterSeconds: 1 });
    sim.faults.add({ api: 'kubernetes', status: 503, pathIncludes: '/namespaces/shop' });
    await call(sim, 'gkehub', 'GET', 'v1/projects/proj-a/locations/-/memberships');
    await call(sim, 'container', 'GET', 'v1/projects/proj-a/locations/-/clusters', undefined, 'wrong-token');
    await call(sim, 'resourcemanager', 'GET', 'v3/nothing/here');
    await kubeRequest(sim, C1, 'GET', '/api/v1/namespaces/shop');
    await kubeRequest(sim, C1, 'GET', '/api/v1/namespaces', { token: null });
    await fetch(`${sim.urls.slack}no.such.method`, { method: 'POST' });
    expect(sim.requests.entries().map((e) => [e.api, e.status])).toEqual([
      ['gkehub', 429],
      ['container', 401],
      ['resourcemanager', 404],
      ['kubernetes', 503],
      ['kubernetes', 401],
      ['slack', 200],
    ]);
  });

  it('counts by api, method, cluster and path, and tells a read-only pass from one that changed something', async () => {
    for (let i = 0; i < 3; i += 1) await apis.core.listNamespace();
    await kubeApis(sim, C2).core.listNamespace();
    await call(sim, 'gkehub', 'GET', 'v1/projects/proj-a/locations/global/features/servicemesh');
    await slack.chat.postMessage({ channel: 'C0LOG', text: 'status' });
    // A status check: only reads, and Slack posts are not mutations of the world.
    expect(sim.requests.mutations()).toEqual([]);
    expect(sim.requests.count({ api: 'kubernetes' })).toBe(4);
    expect(sim.requests.count({ api: 'kubernetes', cluster: C1 })).toBe(3);
    expect(sim.requests.count({ api: 'kubernetes', method: 'get', cluster: C2 })).toBe(1);
    expect(sim.requests.count({ pathIncludes: '/features/' })).toBe(1);
    expect(sim.requests.count()).toBe(6);

    // A dry run validates and changes nothing; a real patch, and a Google POST, are mutations.
    await kubeRequest(sim, C1, 'PATCH', '/api/v1/namespaces/default?dryRun=All', {
      headers: { 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ metadata: { labels: { tier: 'x' } } }),
    });
    expect(sim.requests.mutations()).toEqual([]);
    await apis.core.patchNamespace(
      { name: 'default', body: { metadata: { labels: { tier: 'web' } } } },
      mergePatch,
    );
    await call(sim, 'serviceusage', 'POST', 'v1/projects/proj-a/services/mesh.googleapis.com:enable');
    expect(sim.requests.mutations().map((e) => [e.api, e.method, e.path, e.cluster])).toEqual([
      ['kubernetes', 'PATCH', '/api/v1/namespaces/default', C1],
      ['serviceusage', 'POST', '/v1/projects/proj-a/services/mesh.googleapis.com:enable', undefined],
    ]);
    expect(sim.requests.mutations({ api: 'kubernetes' })).toHaveLength(1);
    expect(sim.requests.totals()).toContainEqual({
      api: 'kubernetes',
      method: 'PATCH',
      cluster: C1,
      count: 2,
    });

    sim.requests.clear();
    expect(sim.requests.entries()).toEqual([]);
    expect(sim.requests.count()).toBe(0);
  });
});

describe('sim: request log capacity', () => {
  it('keeps the newest entries only, while the counts stay exact', () => {
    const clock = new ScaledClock(1, 1_000);
    clock.pause();
    const log = new RequestLog(clock, 3);
    for (let i = 0; i < 5; i += 1) {
      log.begin('kubernetes', { method: 'get', path: `/api/v1/namespaces/ns${i}`, query: '' }, C1)(200);
      clock.advance(10);
    }
    log.begin('gkehub', { method: 'PATCH', path: '/v1/x', query: 'updateMask=a' })(200);
    expect(log.entries().map((e) => e.path)).toEqual([
      '/api/v1/namespaces/ns3',
      '/api/v1/namespaces/ns4',
      '/v1/x',
    ]);
    expect(log.entries()[0]).toMatchObject({ method: 'GET', at: 1_030, cluster: C1 });
    expect(log.count({ api: 'kubernetes' })).toBe(5);
    expect(log.count({ method: 'GET' })).toBe(5);
    expect(log.count()).toBe(6);
    // Paths are not counted apart: that form counts what is kept.
    expect(log.count({ pathIncludes: '/namespaces/' })).toBe(2);
    expect(log.mutations()).toHaveLength(1);
    expect(() => new RequestLog(clock, 0)).toThrow();
  });

  it('keeps 200,000 entries by default', () => {
    expect(new RequestLog(new ScaledClock(1, 0)).capacity).toBe(200_000);
  });
});
