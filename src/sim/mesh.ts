import type {
  ManagedChannel,
  MeshBehaviour,
  MeshImplementation,
  ReleaseChannel,
  SimTimings,
} from './types.js';

export type LifecycleState =
  'DISABLED' | 'PROVISIONING' | 'ACTIVE' | 'FAILED_PRECONDITION' | 'STALLED' | 'NEEDS_ATTENTION' | 'DEGRADED';

export interface StatusDetail {
  code: string;
  details: string;
}

export interface MeshCondition {
  code: string;
  details: string;
  documentationLink: string;
  severity: 'ERROR' | 'WARNING' | 'INFO';
}

/** One membership's servicemesh state at one simulated moment. */
export interface MeshMembershipState {
  controlPlane: LifecycleState;
  dataPlane: LifecycleState;
  controlPlaneDetails: StatusDetail[];
  dataPlaneDetails: StatusDetail[];
  /** Present once a control plane is being provisioned. */
  implementation?: MeshImplementation;
  revision: string;
  conditions: MeshCondition[];
  code: 'OK' | 'WARNING' | 'ERROR';
  description: string;
}

export function managedRevision(channel: ReleaseChannel): string {
  if (channel === 'RAPID') return 'asm-managed-rapid';
  if (channel === 'STABLE') return 'asm-managed-stable';
  return 'asm-managed';
}

/** The proxy version the managed data plane of each channel rolls out (REGULAR's is every cluster's default). */
export const channelProxyVersions: Record<ManagedChannel, string> = {
  RAPID: '1.24.2-asm.1',
  REGULAR: '1.23.6-asm.14',
  STABLE: '1.22.8-asm.5',
};

export interface MeshInputs {
  /** When management became MANAGEMENT_AUTOMATIC; undefined when it is not. */
  automaticSince: number | undefined;
  now: number;
  timings: SimTimings;
  channel: ReleaseChannel;
  behaviour: MeshBehaviour;
  implementation: MeshImplementation;
  /** A new channel's revision being provisioned while `channel`'s still serves (a release channel change). */
  provisioningRevision?: string;
  /** Once provisioned, the control plane reports DEGRADED with this condition (a health problem later on). */
  degradedBy?: MeshCondition;
  /**
   * A fleet host's Cloud Service Mesh service agent lacking roles/anthosservicemesh.serviceAgent on the
   * cluster's project: management turns on (the PATCH succeeds), but the control plane cannot be
   * provisioned there and reports FAILED_PRECONDITION with MESH_IAM_PERMISSION_DENIED until it is granted.
   */
  agentRoleMissing?: { project: string; agent: string };
}

const dataPlaneDisabled: StatusDetail = {
  code: 'DISABLED',
  details: 'Data Plane Management is not enabled.',
};
const controlPlaneRequired: StatusDetail = {
  code: 'MANAGED_CONTROL_PLANE_REQUIRED',
  details: 'Requires active managed control plane.',
};

export const iamPermissionDenied: MeshCondition = {
  code: 'MESH_IAM_PERMISSION_DENIED',
  details:
    'Service Mesh Service Agent is missing the required IAM role roles/anthosservicemesh.serviceAgent on the fleet project.',
  documentationLink:
    'https://cloud.google.com/service-mesh/docs/troubleshooting/troubleshoot-with-feature-state-condition#mesh_iam_permission_denied',
  severity: 'ERROR',
};

/** MESH_IAM_PERMISSION_DENIED for a fleet host's agent on a cluster project (Google retries on its own). */
export function crossProjectIamDenied(missing: { project: string; agent: string }): MeshCondition {
  return {
    ...iamPermissionDenied,
    details: `Service Mesh Service Agent ${missing.agent} is missing the required IAM role roles/anthosservicemesh.serviceAgent on project ${missing.project}.`,
  };
}

export function computeMeshState(inputs: MeshInputs): MeshMembershipState {
  const revision = managedRevision(inputs.channel);
  const base = { revision, conditions: [] as MeshCondition[] };
  if (inputs.automaticSince === undefined) {
    return {
      ...base,
      controlPlane: 'DISABLED',
      dataPlane: 'DISABLED',
      controlPlaneDetails: [],
      dataPlaneDetails: [dataPlaneDisabled],
      code: 'OK',
      description:
        'Please see https://cloud.google.com/service-mesh/docs/install for instructions to onboard to Anthos Service Mesh.',
    };
  }
  const { timings } = inputs;
  const elapsed = inputs.now - inputs.automaticSince;
  const implementation = inputs.implementation;
  if (elapsed < timings.controlPlaneProvisioningAfter) {
    return {
      ...base,
      controlPlane: 'DISABLED',
      dataPlane: 'DISABLED',
      controlPlaneDetails: [],
      dataPlaneDetails: [dataPlaneDisabled],
      code: 'OK',
      description: 'Management is being enabled.',
    };
  }
  const provisioning: MeshMembershipState = {
    ...base,
    implementation,
    controlPlane: 'PROVISIONING',
    controlPlaneDetails: [{ code: 'REVISION_PROVISIONING', details: `Provisioning: ${revision}` }],
    dataPlane: 'FAILED_PRECONDITION',
    dataPlaneDetails: [controlPlaneRequired],
    code: 'OK',
    description: `Revision(s) provisioning: ${revision}.`,
  };
  if (inputs.agentRoleMissing) {
    return {
      ...provisioning,
      controlPlane: 'FAILED_PRECONDITION',
      controlPlaneDetails: [
        {
          code: 'REVISION_FAILED_PRECONDITION',
          details: `Required permissions are missing to provision ${revision}. This will be retried within 15 minutes.`,
        },
      ],
      conditions: [crossProjectIamDenied(inputs.agentRoleMissing)],
      code: 'ERROR',
      description: `Revision(s) failed precondition: ${revision}.`,
    };
  }
  if (elapsed < timings.controlPlaneActiveAfter) return provisioning;
  if (inputs.behaviour === 'stall') {
    return {
      ...provisioning,
      controlPlane: 'STALLED',
      controlPlaneDetails: [
        {
          code: 'REVISION_STALLED',
          details: `Provisioning of ${revision} has stalled; this will be retried.`,
        },
      ],
      // What keeps it from coming up (degradeMesh), as the feature's conditions name it.
      conditions: inputs.degradedBy ? [{ ...inputs.degradedBy }] : [],
      code: 'ERROR',
      description: `Revision(s) stalled: ${revision}.`,
    };
  }
  if (inputs.behaviour === 'degrade') {
    return {
      ...provisioning,
      controlPlane: 'DEGRADED',
      controlPlaneDetails: [
        { code: 'REVISION_UNHEALTHY', details: `Revision(s) reporting unhealthy: ${revision}` },
      ],
      conditions: [iamPermissionDenied],
      code: 'WARNING',
      description: `Revision(s) reporting unhealthy: ${revision}.`,
    };
  }
  const dataPlane = dataPlaneOnceActive(elapsed, timings);
  if (inputs.degradedBy) {
    return {
      ...base,
      implementation,
      controlPlane: 'DEGRADED',
      controlPlaneDetails: [
        { code: 'REVISION_UNHEALTHY', details: `Revision(s) reporting unhealthy: ${revision}` },
      ],
      conditions: [{ ...inputs.degradedBy }],
      code: 'WARNING',
      description: `Revision(s) reporting unhealthy: ${revision}.`,
      ...dataPlane,
    };
  }
  const next = inputs.provisioningRevision;
  return {
    ...base,
    implementation,
    controlPlane: 'ACTIVE',
    controlPlaneDetails: [
      { code: 'REVISION_READY', details: `Ready: ${revision}` },
      ...(next ? [{ code: 'REVISION_PROVISIONING', details: `Provisioning: ${next}` }] : []),
    ],
    code: 'OK',
    description: `Revision(s) ready for use: ${revision}.${next ? ` Revision(s) provisioning: ${next}.` : ''}`,
    ...dataPlane,
  };
}

/** The data plane after the control plane turned ACTIVE: PROVISIONING for a while, then ACTIVE. */
function dataPlaneOnceActive(
  elapsed: number,
  timings: SimTimings,
): Pick<MeshMembershipState, 'dataPlane' | 'dataPlaneDetails'> {
  if (elapsed < timings.dataPlaneProvisioningAfter) {
    return {
      dataPlane: 'PROVISIONING',
      dataPlaneDetails: [{ code: 'PROVISIONING', details: 'Service is provisioning.' }],
    };
  }
  return { dataPlane: 'ACTIVE', dataPlaneDetails: [{ code: 'OK', details: 'Service is running.' }] };
}

/** `asm-1115-3` → `1.11.5-asm.3`, the proxy version asmcli installs for that revision. */
export function inClusterProxyVersion(revision: string): string {
  const match = /^asm-(\d)(\d{2})(\d+)-(\d+)$/.exec(revision);
  if (!match) return '1.11.5-asm.3';
  const [, major, minor, patch, build] = match;
  return `${major}.${Number(minor)}.${patch}-asm.${build}`;
}

export function proxyImage(version: string): string {
  return `gcr.io/gke-release/asm/proxyv2:${version}`;
}
