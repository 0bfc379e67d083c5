import { ScaledClock } from '../../src/sim/clock.js';
import { startSim, type Sim } from '../../src/sim/index.js';
import { applyJsonPatch, mergePatch, PatchError } from '../../src/sim/json.js';
import { call, type Json } from './helpers.js';

describe('sim: fault injection on the Google APIs', () => {
  let sim: Sim;

  beforeAll(async () => {
    sim = await startSim();
  });
  afterAll(() => sim.close());
  afterEach(() => sim.faults.clear());

  it('fails the next matching call with 429 RESOURCE_EXHAUSTED and Retry-After, then recovers', async () => {
    const before = sim.faults.fired;
    sim.faults.add({
      api: 'gkehub',
      status: 429,
      retryAfterSeconds: 3,
      method: 'GET',
      pathIncludes: '/memberships',
    });
    const other = await call(sim, 'container', 'GET', 'v1/projects/proj-a/locations/-/clusters');
    expect(other.status).toBe(200);
    const limited = await call(sim, 'gkehub', 'GET', 'v1/projects/proj-a/locations/-/memberships');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('3');
    expect(limited.body.error).toMatchObject({ code: 429, status: 'RESOURCE_EXHAUSTED' });
    expect((await call(sim, 'gkehub', 'GET', 'v1/projects/proj-a/locations/-/memberships')).status).toBe(200);
    expect(sim.faults.fired).toBe(before + 1);
  });

  it('fires `times` faults, and never at rate 0', async () => {
    sim.faults.add({ api: 'resourcemanager', status: 503, times: 2 });
    const statuses = [];
    for (let i = 0; i < 3; i += 1)
      statuses.push((await call(sim, 'resourcemanager', 'GET', 'v3/projects/proj-a')).status);
    expect(statuses).toEqual([503, 503, 200]);

    sim.faults.add({ api: 'resourcemanager', status: 500, rate: 0 });
    for (let i = 0; i < 5; i += 1)
      expect((await call(sim, 'resourcemanager', 'GET', 'v3/projects/proj-a')).status).toBe(200);
    sim.faults.add({ api: 'resourcemanager', status: 500, rate: 1 });
    expect((await call(sim, 'resourcemanager', 'GET', 'v3/projects/proj-a')).body.error).toMatchObject({
      status: 'INTERNAL',
    });
  });

  it('answers 403 SERVICE_DISABLED with the service named in the fault', async () => {
    sim.faults.add({
      api: 'gkehub',
      status: 403,
      reason: 'SERVICE_DISABLED',
      service: 'mesh.googleapis.com',
    });
    const res = await call(sim, 'gkehub', 'GET', 'v1/projects/proj-a/locations/global/features/servicemesh');
    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({ status: 'PERMISSION_DENIED' });
    const details = (res.body.error as Json).details as Json[];
    expect(details.find((d) => d.reason === 'SERVICE_DISABLED')).toMatchObject({
      metadata: { service: 'mesh.googleapis.com', consumer: 'projects/123456789012' },
    });
  });
});

describe('sim: slow calls', () => {
  it('holds a matching call for latencyMs, then answers it normally, once', async () => {
    const sim = await startSim();
    try {
      sim.faults.slow({ api: 'gkehub', latencyMs: 300, method: 'GET', pathIncludes: '/memberships' });
      const started = Date.now();
      expect((await call(sim, 'gkehub', 'GET', 'v1/projects/proj-a/locations/-/memberships')).status).toBe(
        200,
      );
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      expect(sim.faults.slowed).toEqual([
        { api: 'gkehub', method: 'GET', path: '/v1/projects/proj-a/locations/-/memberships', latencyMs: 300 },
      ]);
      await call(sim, 'gkehub', 'GET', 'v1/projects/proj-a/locations/-/memberships');
      expect(sim.faults.slowed).toHaveLength(1);
    } finally {
      await sim.close();
    }
  });
});

describe('sim: clock', () => {
  it('scales real time by speed, pauses and advances', () => {
    let real = 1000;
    const clock = new ScaledClock(10, 5_000, () => real);
    real += 100;
    expect(clock.now()).toBe(6_000);
    clock.pause();
    real += 100;
    expect(clock.now()).toBe(6_000);
    clock.advance(500);
    expect(clock.now()).toBe(6_500);
    clock.resume();
    real += 10;
    expect(clock.now()).toBe(6_600);
    expect(() => clock.advance(-1)).toThrow();
  });
});

describe('sim: patch formats', () => {
  it('merge-patches per RFC 7386', () => {
    expect(mergePatch({ a: { b: 1, c: 2 }, d: [1] }, { a: { b: null, e: 3 }, d: [2] })).toEqual({
      a: { c: 2, e: 3 },
      d: [2],
    });
  });

  it('applies RFC 6902 operations and refuses a non-array', () => {
    const doc = { metadata: { labels: { a: 'x' } }, list: [1, 2] };
    expect(
      applyJsonPatch(doc, [
        { op: 'replace', path: '/metadata/labels/a', value: 'y' },
        { op: 'add', path: '/metadata/labels/istio.io~1rev', value: 'asm-managed' },
        { op: 'remove', path: '/list/0' },
        { op: 'test', path: '/list', value: [2] },
      ]),
    ).toEqual({ metadata: { labels: { a: 'y', 'istio.io/rev': 'asm-managed' } }, list: [2] });
    expect(doc.metadata.labels.a).toBe('x');
    expect(() => applyJsonPatch(doc, { op: 'add' })).toThrow(PatchError);
    expect(() => applyJsonPatch(doc, [{ op: 'remove', path: '/nope' }])).toThrow(PatchError);
  });
});
