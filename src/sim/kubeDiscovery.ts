/**
 * API discovery as kubectl reads it before anything else: `/api`, `/apis` and one APIResourceList per group
 * version. Only the legacy (unaggregated) form: kubectl asks for aggregated discovery first and, given plain
 * lists, falls back to fetching each group version. The resources listed are the ones the sim serves, with
 * the verbs it answers.
 */
import type { JsonObject } from './json.js';

export interface ResourceInfo {
  name: string;
  singularName: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
}

export interface GroupVersion {
  /** '' for the core group. */
  group: string;
  version: string;
  resources: ResourceInfo[];
}

const readOnly = ['get', 'list', 'watch'];
const patchable = [...readOnly, 'patch'];

export const coreV1: GroupVersion = {
  group: '',
  version: 'v1',
  resources: [
    {
      name: 'namespaces',
      singularName: 'namespace',
      kind: 'Namespace',
      namespaced: false,
      verbs: patchable,
      shortNames: ['ns'],
    },
    {
      name: 'pods',
      singularName: 'pod',
      kind: 'Pod',
      namespaced: true,
      verbs: ['create', 'delete', ...readOnly],
      shortNames: ['po'],
      categories: ['all'],
    },
    {
      name: 'configmaps',
      singularName: 'configmap',
      kind: 'ConfigMap',
      namespaced: true,
      verbs: ['create', 'update', 'patch', ...readOnly],
      shortNames: ['cm'],
    },
    {
      name: 'events',
      singularName: 'event',
      kind: 'Event',
      namespaced: true,
      verbs: readOnly,
      shortNames: ['ev'],
    },
  ],
};

const workload = (name: string, kind: string, shortName: string, verbs = patchable): ResourceInfo => ({
  name,
  singularName: name.slice(0, -1),
  kind,
  namespaced: true,
  verbs,
  shortNames: [shortName],
  categories: ['all'],
});

export const builtInGroups: GroupVersion[] = [
  {
    group: 'apps',
    version: 'v1',
    resources: [
      workload('deployments', 'Deployment', 'deploy'),
      workload('statefulsets', 'StatefulSet', 'sts'),
      workload('daemonsets', 'DaemonSet', 'ds'),
      workload('replicasets', 'ReplicaSet', 'rs', readOnly),
    ],
  },
  {
    group: 'policy',
    version: 'v1',
    resources: [
      {
        name: 'poddisruptionbudgets',
        singularName: 'poddisruptionbudget',
        kind: 'PodDisruptionBudget',
        namespaced: true,
        verbs: readOnly,
        shortNames: ['pdb'],
      },
    ],
  },
];

/** The managed control plane's CRDs: discoverable only once it is being installed. */
export const meshGroup: GroupVersion = {
  group: 'mesh.cloud.google.com',
  version: 'v1beta1',
  resources: [
    {
      name: 'controlplanerevisions',
      singularName: 'controlplanerevision',
      kind: 'ControlPlaneRevision',
      namespaced: true,
      verbs: readOnly,
    },
    {
      name: 'dataplanecontrols',
      singularName: 'dataplanecontrol',
      kind: 'DataPlaneControl',
      namespaced: false,
      verbs: readOnly,
    },
  ],
};

function groupVersion(gv: GroupVersion): string {
  return gv.group === '' ? gv.version : `${gv.group}/${gv.version}`;
}

export function apiVersions(endpoint: string): JsonObject {
  return {
    kind: 'APIVersions',
    versions: [coreV1.version],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: endpoint }],
  };
}

export function apiGroupList(groups: GroupVersion[]): JsonObject {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: groups.map((gv) => {
      const version = { groupVersion: groupVersion(gv), version: gv.version };
      return { name: gv.group, versions: [version], preferredVersion: version };
    }),
  };
}

export function apiResourceList(gv: GroupVersion): JsonObject {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: groupVersion(gv),
    resources: gv.resources.map((r) => ({
      name: r.name,
      singularName: r.singularName,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: r.verbs,
      ...(r.shortNames ? { shortNames: r.shortNames } : {}),
      ...(r.categories ? { categories: r.categories } : {}),
    })),
  };
}
