/** The Kubernetes objects a simulated cluster holds, in the sim's own terms (not wire JSON). */
import type { Sidecar } from './injection.js';

export type Labels = Record<string, string>;

export interface SimContainer {
  name: string;
  image: string;
  /** Set on native sidecars (init containers that keep running). */
  restartPolicy?: 'Always';
}

export interface PodTemplate {
  labels: Labels;
  annotations: Labels;
  containers: SimContainer[];
}

export interface SimNamespace {
  name: string;
  uid: string;
  labels: Labels;
  annotations: Labels;
  createdAt: number;
  resourceVersion: number;
}

export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet';

export interface SimWorkload {
  kind: WorkloadKind;
  name: string;
  namespace: string;
  uid: string;
  labels: Labels;
  annotations: Labels;
  /** Desired pods; for a DaemonSet the node count. */
  replicas: number;
  selector: Labels;
  template: PodTemplate;
  templateHash: string;
  generation: number;
  /** deployment.kubernetes.io/revision: bumps on every template change. */
  revision: number;
  createdAt: number;
  resourceVersion: number;
}

export interface SimPod {
  name: string;
  namespace: string;
  uid: string;
  labels: Labels;
  annotations: Labels;
  containers: SimContainer[];
  initContainers: SimContainer[];
  /** Absent for a pod created through the API (`kubectl run`). */
  owner?: { kind: WorkloadKind; name: string; uid: string };
  /** The owner's template hash when this pod was created ('' without owner); pods with an older one are not updated yet. */
  templateHash: string;
  nodeName: string;
  podIP: string;
  createdAt: number;
  /** Simulated time at which the containers are ready. */
  readyAt: number;
  /** Simulated time at which the pod is gone (replaced by a rollout or scaled down). */
  goneAt?: number;
  resourceVersion: number;
  sidecar?: Sidecar;
}

/** A pod as the API shows it now. */
export interface SimPodView extends SimPod {
  phase: 'Pending' | 'Running';
  ready: boolean;
}

export interface SimConfigMap {
  name: string;
  namespace: string;
  uid: string;
  labels: Labels;
  data: Labels;
  createdAt: number;
  resourceVersion: number;
}

export interface SimEvent {
  name: string;
  namespace: string;
  uid: string;
  involvedObject: { kind: string; name: string; namespace: string; uid: string; apiVersion: string };
  reason: string;
  message: string;
  type: 'Normal' | 'Warning';
  component: string;
  at: number;
  resourceVersion: number;
}

export interface SimPodDisruptionBudget {
  name: string;
  namespace: string;
  uid: string;
  selector: Labels;
  minAvailable?: number;
  maxUnavailable?: number;
  createdAt: number;
  resourceVersion: number;
}

export function matchesLabels(labels: Labels, selector: Labels): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}
