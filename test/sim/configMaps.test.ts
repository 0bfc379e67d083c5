/**
 * The emulated API server's ConfigMap writes, with Kubernetes' optimistic concurrency: a write that
 * names a resourceVersion other than the stored one is 409 Conflict; a create of an existing name is 409
 * AlreadyExists; a merge patch keeps the data keys it does not name.
 */
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { startSim, type Sim } from '../../src/sim/index.js';
import { kubeApis, kubeErrorCode, type KubeApis } from './helpers.js';

const C1 = 'proj-a/us-central1/c1';
const NS = 'istio-system';
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

describe('sim: ConfigMaps', () => {
  let sim: Sim;
  let apis: KubeApis;

  beforeAll(async () => {
    sim = await startSim({ scenario: 'default' });
    apis = kubeApis(sim, C1);
  });
  afterAll(() => sim.close());

  it('creates, reads, patches and replaces on the current resourceVersion; a stale one is 409 Conflict', async () => {
    const created = await apis.core.createNamespacedConfigMap({
      namespace: NS,
      body: {
        metadata: { name: 'istio-asm-managed', labels: { a: 'b' } },
        data: { mesh: 'x: 1\n', keep: 'me' },
      },
    });
    const v1 = created.metadata?.resourceVersion ?? '';
    expect(v1).toMatch(/^\d+$/);
    expect(
      await kubeErrorCode(
        apis.core.createNamespacedConfigMap({
          namespace: NS,
          body: { metadata: { name: 'istio-asm-managed' } },
        }),
      ),
    ).toMatchObject({ code: 409, body: { reason: 'AlreadyExists' } });

    const patched = await apis.core.patchNamespacedConfigMap(
      {
        name: 'istio-asm-managed',
        namespace: NS,
        body: { metadata: { resourceVersion: v1 }, data: { mesh: 'x: 2\n' } },
      },
      mergePatch,
    );
    const v2 = patched.metadata?.resourceVersion ?? '';
    expect(Number(v2)).toBeGreaterThan(Number(v1));
    expect(patched.data).toEqual({ mesh: 'x: 2\n', keep: 'me' });
    expect(patched.metadata?.labels).toEqual({ a: 'b' });

    // The same write again names the old version: someone (the first write) changed it since.
    expect(
      await kubeErrorCode(
        apis.core.patchNamespacedConfigMap(
          {
            name: 'istio-asm-managed',
            namespace: NS,
            body: { metadata: { resourceVersion: v1 }, data: { mesh: 'x: 3\n' } },
          },
          mergePatch,
        ),
      ),
    ).toMatchObject({ code: 409, body: { reason: 'Conflict' } });
    expect(
      await kubeErrorCode(
        apis.core.replaceNamespacedConfigMap({
          name: 'istio-asm-managed',
          namespace: NS,
          body: { metadata: { name: 'istio-asm-managed', resourceVersion: v1 }, data: { mesh: 'x: 3\n' } },
        }),
      ),
    ).toMatchObject({ code: 409, body: { reason: 'Conflict' } });
    const read = await apis.core.readNamespacedConfigMap({ name: 'istio-asm-managed', namespace: NS });
    expect(read.data?.mesh).toBe('x: 2\n');
    expect(read.metadata?.resourceVersion).toBe(v2);

    const replaced = await apis.core.replaceNamespacedConfigMap({
      name: 'istio-asm-managed',
      namespace: NS,
      body: { metadata: { name: 'istio-asm-managed', resourceVersion: v2 }, data: { mesh: 'x: 4\n' } },
    });
    expect(replaced.data).toEqual({ mesh: 'x: 4\n' });
    expect(
      await kubeErrorCode(
        apis.core.readNamespacedConfigMap({ name: 'istio-asm-managed-rapid', namespace: NS }),
      ),
    ).toMatchObject({ code: 404 });
  });
});
