/**
 * The emulated fleet as one JSON document, for the emulator's own state endpoint (GET /_sim/state, see
 * control.ts) and whoever shows it (the local console's fleet panel): what each cluster is, whether it
 * is in the fleet, what its managed mesh reports, and what its namespaces and pods look like, read the
 * way the emulated APIs would answer at this moment. Types, not interfaces: they are JSON values.
 */
import type { SimClock } from './clock.js';
import type { SimCluster } from './cluster.js';
import type { FaultInjector } from './faults.js';
import type { SimContainer, SimPodView } from './kubeTypes.js';
import { availableChanges, type MeshChangeOffer } from './meshChanges.js';
import type { LifecycleState } from './mesh.js';
import type { MembershipStateCode, SimMembership, SimWorld } from './world.js';

/** The labels that decide sidecar injection on a namespace (never both, if meshops set them). */
export const injectionLabels = ['istio-injection', 'istio.io/rev'] as const;

export type PodState = {
  name: string;
  phase: SimPodView['phase'];
  ready: boolean;
  /** The `istio-proxy` container's image tag, e.g. '1.23.6-asm.14'; null: the pod has no sidecar. */
  proxy: string | null;
};

export type NamespaceState = {
  name: string;
  /** Only the injection labels the namespace carries, e.g. { 'istio-injection': 'enabled' }. */
  injection: Record<string, string>;
  pods: PodState[];
};

export type MeshState = {
  /** mesh.management of this membership's spec in the servicemesh feature, e.g. MANAGEMENT_AUTOMATIC. */
  management: string | null;
  controlPlane: LifecycleState;
  dataPlane: LifecycleState;
  implementation: string | null;
  revision: string;
  /** Condition codes, e.g. MESH_IAM_PERMISSION_DENIED. */
  conditions: string[];
  /** The proxy version the managed data plane rolls pods to, and how far it got; null until it is ACTIVE. */
  rollout: { target: string; done: number; total: number; failed: number; pending: number } | null;
};

export type ClusterState = {
  ref: string;
  status: string;
  releaseChannel: string;
  membership: { name: string; state: MembershipStateCode } | null;
  /** null: not registered in the fleet. */
  mesh: MeshState | null;
  namespaces: NamespaceState[];
  /** What Google could do to this cluster's mesh now (POST /_sim/mesh). */
  changes: MeshChangeOffer[];
};

export type FaultState = {
  api: string;
  status: number;
  /** Calls it will still fail; null: every matching call (a rate of 1), or a share of them. */
  remaining: number | null;
  rate: number | null;
  method: string | null;
  pathIncludes: string | null;
};

export type FleetState = {
  /** Simulated time, epoch ms. */
  now: number;
  speed: number;
  clusters: ClusterState[];
  faults: { active: FaultState[]; fired: number };
};

function proxyVersion(containers: SimContainer[]): string | null {
  const proxy = containers.find((c) => c.name === 'istio-proxy');
  if (!proxy) return null;
  const colon = proxy.image.lastIndexOf(':');
  return colon < 0 ? proxy.image : proxy.image.slice(colon + 1);
}

function podState(pod: SimPodView): PodState {
  return {
    name: pod.name,
    phase: pod.phase,
    ready: pod.ready,
    // A native sidecar is an init container that keeps running.
    proxy: proxyVersion([...pod.containers, ...pod.initContainers]),
  };
}

function namespaceStates(cluster: SimCluster): NamespaceState[] {
  const pods = cluster.pods;
  return cluster.namespaces.map((namespace) => ({
    name: namespace.name,
    injection: Object.fromEntries(
      injectionLabels.flatMap((key) => {
        const value = namespace.labels[key];
        return value === undefined ? [] : [[key, value]];
      }),
    ),
    pods: pods.filter((p) => p.namespace === namespace.name).map(podState),
  }));
}

function managementOf(world: SimWorld, membership: SimMembership, key: string): string | null {
  // The membership's fleet holds the feature: a fleet host's, which need not be the cluster's project.
  const spec = world.feature(membership.project, 'servicemesh')?.membershipSpecs.get(key)?.spec;
  const mesh = spec?.mesh;
  const management =
    typeof mesh === 'object' && mesh !== null && !Array.isArray(mesh) ? mesh.management : undefined;
  return typeof management === 'string' ? management : null;
}

function clusterState(world: SimWorld, cluster: SimCluster): ClusterState {
  const membership = world.membershipsOfCluster(cluster)[0];
  let mesh: MeshState | null = null;
  if (membership) {
    const state = world.meshStateOf(membership);
    const rollout = state.dataPlane === 'ACTIVE' ? world.rolloutStatus(cluster.ref) : undefined;
    mesh = {
      management: managementOf(world, membership, world.membershipKey(membership)),
      controlPlane: state.controlPlane,
      dataPlane: state.dataPlane,
      implementation: state.implementation ?? null,
      revision: state.revision,
      conditions: state.conditions.map((c) => c.code),
      rollout: rollout
        ? {
            target: rollout.target,
            done: rollout.done,
            total: rollout.total,
            failed: rollout.failed,
            pending: rollout.pending,
          }
        : null,
    };
  }
  return {
    ref: cluster.ref,
    status: cluster.status,
    releaseChannel: cluster.releaseChannel,
    membership: membership ? { name: membership.name, state: world.membershipStateCode(membership) } : null,
    mesh,
    namespaces: namespaceStates(cluster),
    changes: availableChanges(world, cluster),
  };
}

export function fleetState(world: SimWorld, clock: SimClock, faults: FaultInjector): FleetState {
  return {
    now: clock.now(),
    speed: clock.speed,
    clusters: world.clusters.map((cluster) => clusterState(world, cluster)),
    faults: {
      active: faults.active.map(({ rule, remaining }) => ({
        api: rule.api,
        status: rule.status,
        remaining: Number.isFinite(remaining) ? remaining : null,
        rate: rule.rate ?? null,
        method: rule.method ?? null,
        pathIncludes: rule.pathIncludes ?? null,
      })),
      fired: faults.fired,
    },
  };
}
