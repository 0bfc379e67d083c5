import { kubeTime } from './clock.js';
import type { SimCluster } from './cluster.js';
import type { ManagedMeshView } from './injection.js';
import type { JsonObject } from './json.js';

const meshApiVersion = 'mesh.cloud.google.com/v1beta1';

function crCondition(type: string, status: boolean, reason: string, message: string, at: string): JsonObject {
  return { type, status: status ? 'True' : 'False', reason, message, lastTransitionTime: at };
}

/** The ControlPlaneRevision the managed control plane keeps in istio-system once it is being provisioned. */
export function controlPlaneRevisionObject(cluster: SimCluster, mesh: ManagedMeshView): JsonObject {
  const state = mesh.controlPlaneState;
  const time = kubeTime(mesh.since);
  const ready = state === 'ACTIVE';
  const channel = mesh.revision === 'asm-managed' ? 'regular' : mesh.revision.replace('asm-managed-', '');
  return {
    apiVersion: meshApiVersion,
    kind: 'ControlPlaneRevision',
    metadata: {
      name: mesh.revision,
      namespace: 'istio-system',
      uid: `${cluster.id.slice(0, 8)}-cpr0-4000-8000-${cluster.id.slice(0, 12)}`,
      resourceVersion: String(cluster.resourceVersion),
      creationTimestamp: time,
      generation: 1,
      labels: {
        'mesh.cloud.google.com/managed-cni-enabled': 'true',
        'app.kubernetes.io/created-by': 'fleet-mesh',
      },
    },
    spec: { type: 'managed_service', channel },
    status: {
      conditions: [
        crCondition(
          'Reconciled',
          ready,
          ready ? 'Provisioned' : state === 'DEGRADED' ? 'Unhealthy' : 'Provisioning',
          ready ? 'Provisioning finished' : `Control plane ${state.toLowerCase()}`,
          time,
        ),
        crCondition(
          'ProvisioningFinished',
          ready || state === 'DEGRADED',
          ready ? 'Provisioned' : 'Provisioning',
          ready ? 'Provisioning finished' : 'Provisioning in progress',
          time,
        ),
        crCondition(
          'Stalled',
          state === 'STALLED',
          state === 'STALLED' ? 'Stalled' : 'NotStalled',
          state === 'STALLED' ? 'Provisioning has stalled' : '',
          time,
        ),
      ],
    },
  };
}

/** The cluster-scoped DataPlaneControl the managed data plane reports its proxy version through. */
export function dataPlaneControlObject(cluster: SimCluster, mesh: ManagedMeshView): JsonObject {
  return {
    apiVersion: meshApiVersion,
    kind: 'DataPlaneControl',
    metadata: {
      name: mesh.revision,
      uid: `${cluster.id.slice(0, 8)}-dpc0-4000-8000-${cluster.id.slice(0, 12)}`,
      resourceVersion: String(cluster.resourceVersion),
      creationTimestamp: kubeTime(mesh.since),
      generation: 1,
    },
    spec: { revision: mesh.revision, proxyVersion: mesh.proxyVersion, proxyTargetBasisPoints: 10000 },
    status: { state: mesh.dataPlaneState === 'ACTIVE' ? 'Ready' : 'Provisioning' },
  };
}
