/** The sim's project IAM policy over the wire: read, read-modify-write with its etag, a stale write refused. */
import { startSim, type Sim } from '../../src/sim/index.js';
import { call, type Json } from './helpers.js';

const AGENT = 'serviceAccount:service-987654321098@gcp-sa-gkehub.iam.gserviceaccount.com';

describe('sim: Resource Manager getIamPolicy / setIamPolicy', () => {
  let sim: Sim;

  beforeAll(async () => {
    sim = await startSim();
  });
  afterAll(async () => {
    await sim.close();
  });

  it('writes a policy read with its etag, refuses a write with the stale etag (409 ABORTED), and v1 and v3 agree', async () => {
    const read = await call(sim, 'resourcemanager', 'POST', '/v1/projects/proj-a:getIamPolicy', {});
    expect(read.status).toBe(200);
    const { etag, bindings = [] } = read.body as { etag: string; bindings?: Json[] };
    expect(typeof etag).toBe('string');

    const policy = { etag, bindings: [...bindings, { role: 'roles/gkehub.serviceAgent', members: [AGENT] }] };
    const written = await call(sim, 'resourcemanager', 'POST', '/v1/projects/proj-a:setIamPolicy', {
      policy,
    });
    expect(written.status).toBe(200);
    expect(written.body['etag']).not.toBe(etag);
    expect(sim.world.hasRole('proj-a', 'roles/gkehub.serviceAgent', AGENT)).toBe(true);

    // A second writer that read before the first wrote loses, and the first one's binding stays.
    const stale = await call(sim, 'resourcemanager', 'POST', '/v3/projects/proj-a:setIamPolicy', {
      policy: { etag, bindings: [] },
    });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ error: { code: 409, status: 'ABORTED' } });
    expect(sim.world.hasRole('proj-a', 'roles/gkehub.serviceAgent', AGENT)).toBe(true);

    const v3 = await call(sim, 'resourcemanager', 'POST', '/v3/projects/123456789012:getIamPolicy', {});
    expect(v3.body).toEqual(written.body);
    // Writes are mutations in the request log; reads by POST are not.
    expect(sim.requests.mutations().map((e) => `${e.method} ${e.path}`)).toEqual([
      'POST /v1/projects/proj-a:setIamPolicy',
      'POST /v3/projects/proj-a:setIamPolicy',
    ]);
  });

  it('answers a policy without bindings of the right shape with 400, changing nothing', async () => {
    const before = await call(sim, 'resourcemanager', 'POST', '/v1/projects/proj-a:getIamPolicy', {});
    const bad = await call(sim, 'resourcemanager', 'POST', '/v1/projects/proj-a:setIamPolicy', {
      policy: { bindings: [{ role: 'roles/viewer' }] },
    });
    expect(bad.status).toBe(400);
    const after = await call(sim, 'resourcemanager', 'POST', '/v1/projects/proj-a:getIamPolicy', {});
    expect(after.body).toEqual(before.body);
  });
});
