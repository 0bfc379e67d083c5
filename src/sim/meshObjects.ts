import { kubeTime } from './clock.js';
import type { SimCluster } from './cluster.js';
import type { ManagedMeshView } from './injection.js';
import type { JsonObject } from './json.js';
import type { LifecycleState } from './mesh.js';

const meshApiVersion = 'mesh.cloud.google.com/v1beta1';

function crCondition(type: string, status: boolean, reason: string, message: string, at: string): JsonObject {
  return { type, status: status ? 'True' : 'False', reason, message, lastTransitionTime: at };
}

/** `asm-managed-rapid` → `rapid`; `asm-managed` is the regular channel. */
function channelOf(revision: string): string {
  return revision === 'asm-managed' ? 'regular' : revision.replace('asm-managed-', '');
}

/** One stable uid per cluster and revision (the regular one keeps the uid it always had). */
function revisionUid(cluster: SimCluster, revision: string): string {
  const index = ['asm-managed', 'asm-managed-rapid', 'asm-managed-stable'].indexOf(revision);
  const code = index >= 0 ? String(index) : String(revision.length % 10);
  return `${cluster.id.slice(0, 8)}-cpr${code}-4000-8000-${cluster.id.slice(0, 12)}`;
}

interface RevisionState {
  revision: string;
  state: LifecycleState;
  since: number;
  /** Why a DEGRADED revision is unhealthy. */
  unhealthyBecause?: string;
}

function revisionObject(cluster: SimCluster, revision: RevisionState): JsonObject {
  const { state } = revision;
  const time = kubeTime(revision.since);
  const ready = state === 'ACTIVE';
  const degraded = state === 'DEGRADED';
  return {
    apiVersion: meshApiVersion,
    kind: 'ControlPlaneRevision',
    metadata: {
      name: revision.revision,
      namespace: 'istio-system',
      uid: revisionUid(cluster, revision.revision),
      resourceVersion: String(cluster.resourceVersion),
      creationTimestamp: time,
      generation: 1,
      labels: {
        'mesh.cloud.google.com/managed-cni-enabled': 'true',
        'app.kubernetes.io/created-by': 'fleet-mesh',
      },
    },
    spec: { type: 'managed_service', channel: channelOf(revision.revision) },
    status: {
      conditions: [
        crCondition(
          'Reconciled',
          ready,
          ready ? 'Provisioned' : degraded ? 'Unhealthy' : 'Provisioning',
          ready
            ? 'Provisioning finished'
            : degraded && revision.unhealthyBecause
              ? revision.unhealthyBecause
              : `Control plane ${state.toLowerCase()}`,
          time,
        ),
        crCondition(
          'ProvisioningFinished',
          ready || degraded,
          ready || degraded ? 'Provisioned' : 'Provisioning',
          ready || degraded ? 'Provisioning finished' : 'Provisioning in progress',
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

/** The ControlPlaneRevision the managed control plane keeps in istio-system once it is being provisioned. */
export function controlPlaneRevisionObject(cluster: SimCluster, mesh: ManagedMeshView): JsonObject {
  const unhealthyBecause = mesh.conditions?.[0]?.details;
  return revisionObject(cluster, {
    revision: mesh.revision,
    state: mesh.controlPlaneState,
    since: mesh.revisionSince ?? mesh.since,
    ...(unhealthyBecause === undefined ? {} : { unhealthyBecause }),
  });
}

/** Every ControlPlaneRevision: the serving one, and a new channel's while it is provisioned. */
export function controlPlaneRevisionObjects(cluster: SimCluster, mesh: ManagedMeshView): JsonObject[] {
  const serving = controlPlaneRevisionObject(cluster, mesh);
  if (mesh.provisioningRevision === undefined) return [serving];
  const next = revisionObject(cluster, {
    revision: mesh.provisioningRevision,
    state: 'PROVISIONING',
    since: mesh.provisioningSince ?? mesh.since,
  });
  return [serving, next];
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
