/** The one place that spells Google's resource names of clusters and memberships. */
import type { ClusterRef } from './ports.js';

/** `projects/P/locations/L/clusters/C`, with P the project ID (or, where Google wrote it so, its number). */
export function clusterPath(cluster: ClusterRef, project: string = cluster.project): string {
  return `projects/${project}/locations/${cluster.location}/clusters/${cluster.name}`;
}

/** The fleet's link to a GKE cluster (`endpoint.gkeCluster.resourceLink`). */
export function clusterResourceLink(cluster: ClusterRef, project: string = cluster.project): string {
  return `//container.googleapis.com/${clusterPath(cluster, project)}`;
}

/** Key of a membership in the feature maps; the server writes them with the project number. */
export function membershipKeyWithNumber(membershipName: string, projectNumber: string): string {
  return membershipName.replace(/^projects\/[^/]+\//, `projects/${projectNumber}/`);
}
