/** The worlds of the batch tests: two fleet projects and clusters alike but for what a test varies. */
import type { ClusterSpec, ProjectSpec } from '../../src/sim/index.js';

export const batchProjects: ProjectSpec[] = [
  { id: 'fleet-aa', number: '300000000001' },
  { id: 'fleet-bb', number: '300000000002' },
];

/** A REGULAR-channel cluster with a two-pod `web` in `default`, and `extra` over it. */
export function batchCluster(
  project: string,
  location: string,
  name: string,
  extra: Partial<ClusterSpec> = {},
): ClusterSpec {
  return {
    project,
    location,
    name,
    releaseChannel: 'REGULAR',
    namespaces: [
      { name: 'default', deployments: [{ name: 'web', replicas: 2 }] },
      { name: 'kube-system' },
      { name: 'istio-system' },
    ],
    ...extra,
  };
}
