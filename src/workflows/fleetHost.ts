/**
 * The fleet a cluster joins: its own project's, or a fleet host project's (Google's advice for
 * several projects: one host project holds the memberships and the servicemesh feature). Pure.
 */
import { globMatches } from '../glob.js';
import type { ClusterRef } from './ports.js';
import type { RunRecord } from './run.js';

/** config `fleet.hostProjects`: clusters of projects a pattern matches join `host`'s fleet. */
export interface HostProjectRule {
  projects: string;
  host: string;
}

/** The fleet project and its number, as a run resolved them (the number keys memberships and mesh_id). */
export interface FleetHost {
  project: string;
  number: string;
}

/** `fleet=HOST` as typed, else the first rule matching the cluster's project, else the project itself. */
export function fleetProjectFor(
  cluster: Pick<ClusterRef, 'project'>,
  rules: readonly HostProjectRule[],
  asked?: string,
): string {
  if (asked) return asked;
  return rules.find((rule) => globMatches(rule.projects, cluster.project))?.host ?? cluster.project;
}

/** A run's fleet as its first step resolved it (and kept it: a config change mid-run moves nothing). */
export function fleetOf(run: RunRecord): FleetHost | null {
  const facts = run.facts as { fleet?: FleetHost; projectNumber?: string };
  if (facts.fleet) return facts.fleet;
  // A record written before fleet hosts existed: its fleet is the cluster's own project.
  return facts.projectNumber ? { project: run.cluster.project, number: facts.projectNumber } : null;
}
