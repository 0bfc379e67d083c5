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

const MULTI_PROJECT_DOC =
  'https://cloud.google.com/service-mesh/docs/managed/provision-managed-anthos-service-mesh#multi-project';

/**
 * Throws CROSS_PROJECT_PERMISSION naming every grant the host's agents lack on the cluster's project.
 * Returns what it could see: a note when the policy could not be read (the fleet then says it later).
 */
export async function checkCrossProjectGrants(ctx: StepContext, host: FleetHost): Promise<string> {
  const project = ctx.run.cluster.project;
  let bindings: IamBinding[];
  try {
    bindings = await ctx.deps.projects.iamBindings(project);
  } catch (error) {
    // Reading a policy needs resourcemanager.projects.getIamPolicy, which meshops may lack: say so, go on.
    if (isMeshopsError(error, 'PERMISSION_DENIED'))
      return `could not read ${project}'s IAM policy to check the fleet host's grants`;
    throw error;
  }
  const missing = missingGrants(host, bindings);
  if (missing.length === 0)
    return `fleet host ${host.project}'s service agents have their roles on ${project}`;
  throw new MeshopsError(
    'CROSS_PROJECT_PERMISSION',
    `the fleet host ${host.project} cannot act on ${project}: ${missing
      .map((g) => `${g.member.replace('serviceAccount:', '')} lacks ${g.role} (${g.why})`)
      .join('; ')}`,
    {
      hint: `${missing
        .map((g) => `gcloud projects add-iam-policy-binding ${project} --member ${g.member} --role ${g.role}`)
        .join(' && ')} (see ${MULTI_PROJECT_DOC}); nothing was changed`,
    },
  );
}
