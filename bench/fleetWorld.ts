import type { ClusterSpec, ProjectSpec } from '../src/sim/index.js';

/**
 * The emulated fleet of the benchmarks: `count` clusters spread over `projectCount` projects, named
 * `fleet-PP/us-central1/cN`, each with one deployment of two pods to inject.
 */
export function fleetWorld(
  count: number,
  projectCount: number,
): { projects: ProjectSpec[]; clusters: ClusterSpec[] } {
  const projects: ProjectSpec[] = Array.from({ length: projectCount }, (_, p) => ({
    id: `fleet-${String(p).padStart(2, '0')}`,
    number: String(300000000000 + p),
  }));
  const clusters: ClusterSpec[] = Array.from({ length: count }, (_, i) => ({
    project: projects[i % projectCount]!.id,
    location: 'us-central1',
    name: `c${Math.floor(i / projectCount)}`,
    workloadIdentity: true,
    releaseChannel: 'REGULAR',
    namespaces: [
      { name: 'default', deployments: [{ name: 'web', replicas: 2 }] },
      { name: 'kube-system' },
      { name: 'istio-system' },
    ],
  }));
  return { projects, clusters };
}

export const refOf = (c: ClusterSpec): string => `${c.project}/${c.location}/${c.name}`;
