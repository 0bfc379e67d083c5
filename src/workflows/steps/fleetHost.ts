/**
 * Preflight of a cluster joining a fleet host project's fleet: the host's Google-managed service
 * agents act on the cluster's project, so they need roles there (Google's "register a cluster in
 * another project" and managed Cloud Service Mesh multi-project setup).
 */
import { MeshopsError, isMeshopsError } from '../../errors.js';
import type { StepContext } from '../engine.js';
import type { FleetHost } from '../fleetHost.js';
import type { IamBinding } from '../ports.js';

/** The host's service agents and the role each needs on the cluster's project. */
export function crossProjectGrants(host: FleetHost): Array<{ member: string; role: string; why: string }> {
  return [
    {
      member: `serviceAccount:service-${host.number}@gcp-sa-gkehub.iam.gserviceaccount.com`,
      role: 'roles/gkehub.serviceAgent',
      why: 'the fleet registers and reads the cluster',
    },
    {
      member: `serviceAccount:service-${host.number}@gcp-sa-servicemesh.iam.gserviceaccount.com`,
      role: 'roles/anthosservicemesh.serviceAgent',
      why: 'the managed control plane provisions in the cluster',
    },
  ];
}

/** The grants `bindings` lack. Pure. */
export function missingGrants(
  host: FleetHost,
  bindings: readonly IamBinding[],
): ReturnType<typeof crossProjectGrants> {
  return crossProjectGrants(host).filter(
    (grant) => !bindings.some((b) => b.role === grant.role && b.members.includes(grant.member)),
  );
}

/** The gcloud commands that make `grants` on `project`. */
export function grantCommands(project: string, grants: ReturnType<typeof crossProjectGrants>): string {
  // Each command in a code span of its own: copied one at a time, as Slack shows them.
  const commands = grants.map(
    (g) => `\`gcloud projects add-iam-policy-binding ${project} --member ${g.member} --role ${g.role}\``,
  );
  return `grant ${grants.length === 1 ? 'it' : 'them'}: ${commands.join(' and ')}`;
}

export const MULTI_PROJECT_DOC =
  'https://cloud.google.com/service-mesh/docs/managed/provision-managed-anthos-service-mesh#multi-project';

/**
 * CROSS_PROJECT_PERMISSION naming every grant the host's agents lack on the cluster's project, or
 * undefined. A policy meshops may not read (resourcemanager.projects.getIamPolicy) blocks nothing:
 * the fleet then says what is missing itself.
 */
export async function crossProjectBlocker(
  ctx: StepContext,
  host: FleetHost,
): Promise<MeshopsError | undefined> {
  const project = ctx.run.cluster.project;
  let bindings: IamBinding[];
  try {
    bindings = await ctx.deps.projects.iamBindings(project);
  } catch (error) {
    if (isMeshopsError(error, 'PERMISSION_DENIED')) return undefined;
    throw error;
  }
  const missing = missingGrants(host, bindings);
  if (missing.length === 0) return undefined;
  return new MeshopsError(
    'CROSS_PROJECT_PERMISSION',
    `the fleet host ${host.project} cannot act on ${project}: ${missing
      .map((g) => `${g.member.replace('serviceAccount:', '')} lacks ${g.role} (${g.why})`)
      .join('; ')}`,
    {
      hint: grantCommands(project, missing),
      docs: MULTI_PROJECT_DOC,
    },
  );
}
