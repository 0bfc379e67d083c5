import { inClusterProxyVersion, type LifecycleState, type MeshCondition } from './mesh.js';

/** The sidecar a new pod gets, if any. */
export interface Sidecar {
  revision: string;
  proxyVersion: string;
  /** Injected by the managed data plane, whose controller later upgrades it (not an in-cluster istiod). */
  managed?: boolean;
}

/** The managed mesh as seen from one cluster at one moment. */
export interface ManagedMeshView {
  revision: string;
  dataPlaneActive: boolean;
  controlPlaneState: LifecycleState;
  dataPlaneState: LifecycleState;
  /** When management became automatic (the managed custom resources' creation time). */
  since: number;
  proxyVersion: string;
  /** When the serving revision was created, if later than `since` (a release channel change). */
  revisionSince?: number;
  /** After a release channel change: the new channel's revision while it is being provisioned. */
  provisioningRevision?: string;
  /** When that revision's provisioning began. */
  provisioningSince?: number;
  /** The feature's conditions for this membership (e.g. why the control plane is DEGRADED). */
  conditions?: MeshCondition[];
}

export interface InjectionContext {
  namespaceLabels: Record<string, string>;
  podLabels: Record<string, string>;
  managed: ManagedMeshView | undefined;
  /** Revisions of in-cluster istiod deployments in istio-system (label istio.io/rev). */
  inClusterRevisions: string[];
}

/**
 * Istio's webhook selection: `istio-injection` on the namespace wins over `istio.io/rev`; a revision label
 * only injects if a control plane of that revision is there. The managed webhook only injects once the
 * managed data plane is ACTIVE for the cluster's membership.
 */
export function chooseSidecar(context: InjectionContext): Sidecar | undefined {
  const { namespaceLabels, podLabels, managed } = context;
  if (podLabels['sidecar.istio.io/inject'] === 'false') return undefined;
  const managedSidecar =
    managed?.dataPlaneActive === true
      ? { revision: managed.revision, proxyVersion: managed.proxyVersion, managed: true }
      : undefined;
  const injection = namespaceLabels['istio-injection'];
  if (injection !== undefined) return injection === 'enabled' ? managedSidecar : undefined;
  const revision = namespaceLabels['istio.io/rev'];
  if (revision === undefined) return undefined;
  if (managed !== undefined && revision === managed.revision) return managedSidecar;
  if (context.inClusterRevisions.includes(revision)) {
    return { revision, proxyVersion: inClusterProxyVersion(revision) };
  }
  return undefined;
}
