import type { gkehub_v1 } from 'googleapis/build/src/apis/gkehub/v1.js';
import { isMeshopsError } from '../errors.js';
import type {
  ClusterRef,
  Fleet,
  FleetMesh,
  MeshCondition,
  MeshState,
  Membership,
  OperationRef,
  OperationStatus,
  PlaneState,
} from '../workflows/ports.js';
import { clusterPath, clusterResourceLink, membershipKeyWithNumber } from '../workflows/names.js';
import type { CloudCaller } from './caller.js';

const FEATURE = 'servicemesh';

function planeState(
  plane:
    | {
        state?: string | null;
        details?: Array<{ code?: string | null; details?: string | null }> | null;
        implementation?: string | null;
      }
    | undefined,
): PlaneState | null {
  if (!plane?.state) return null;
  return {
    state: plane.state,
    details: (plane.details ?? []).map((d) => ({ code: d.code ?? '', details: d.details ?? '' })),
    ...(plane.implementation ? { implementation: plane.implementation } : {}),
  };
}

function toMeshState(mesh: gkehub_v1.Schema$ServiceMeshMembershipState | undefined): MeshState | null {
  if (!mesh) return null;
  const conditions: MeshCondition[] = (mesh.conditions ?? []).map((c) => ({
    code: c.code ?? 'UNKNOWN',
    details: c.details ?? '',
    ...(c.documentationLink ? { documentationLink: c.documentationLink } : {}),
    ...(c.severity ? { severity: c.severity } : {}),
  }));
  return {
    controlPlane: planeState(mesh.controlPlaneManagement ?? undefined),
    dataPlane: planeState(mesh.dataPlaneManagement ?? undefined),
    conditions,
  };
}

/** GKE Hub (Fleet) v1 through googleapis' gkehub module. */
export class GkeHubFleet implements Fleet {
  /** The last read of each project's feature, shared by the polls of every run in that project. */
  private readonly sharedReads = new Map<string, { at: number; read: Promise<FleetMesh> }>();

  /**
   * `sharedReadMs`: how old a feature read may be and still answer a poll (meshState). The feature
   * holds every membership's state, so a thousand runs in one fleet project polling every few seconds
   * cost one read per project per that long, not one per run. 0: every poll reads.
   */
  constructor(
    private readonly hub: gkehub_v1.Gkehub,
    private readonly caller: CloudCaller,
    private readonly sharedReadMs = 0,
    private readonly now: () => number = Date.now,
  ) {}

  async listMemberships(project: string): Promise<Membership[]> {
    const parent = `projects/${project}/locations/-`;
    const memberships: Membership[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.caller.call('list memberships', parent, project, async () => {
        const res = await this.hub.projects.locations.memberships.list({
          parent,
          ...(pageToken ? { pageToken } : {}),
        });
        return res.data;
      });
      for (const m of page.resources ?? []) {
        if (!m.name) continue;
        memberships.push({
          name: m.name,
          resourceLink: m.endpoint?.gkeCluster?.resourceLink ?? '',
          state: m.state?.code ?? 'UNKNOWN',
        });
      }
      pageToken = page.nextPageToken ?? undefined;
    } while (pageToken);
    return memberships;
  }

  async findMembership(
    project: string,
    cluster: ClusterRef,
    projectNumber: string,
  ): Promise<Membership | null> {
    // The link names the cluster's own project (by ID or number), which is not the fleet's with a host.
    const links = new Set([cluster.project, projectNumber].map((p) => clusterResourceLink(cluster, p)));
    return (await this.listMemberships(project)).find((m) => links.has(m.resourceLink)) ?? null;
  }

  async createMembership(
    project: string,
    location: string,
    membershipId: string,
    cluster: ClusterRef,
    workloadIdentity: boolean,
  ): Promise<OperationRef> {
    const parent = `projects/${project}/locations/${location}`;
    const path = clusterPath(cluster);
    const requestBody: gkehub_v1.Schema$Membership = {
      endpoint: { gkeCluster: { resourceLink: `//container.googleapis.com/${path}` } },
      // The issuer enables fleet Workload Identity, as `gcloud container fleet memberships register --enable-workload-identity` does.
      ...(workloadIdentity ? { authority: { issuer: `https://container.googleapis.com/v1/${path}` } } : {}),
    };
    const operation = await this.caller.call(
      'create membership',
      `${parent}/memberships/${membershipId}`,
      project,
      async () => {
        const res = await this.hub.projects.locations.memberships.create({
          parent,
          membershipId,
          requestBody,
        });
        return res.data;
      },
    );
    return { api: 'gkehub', name: operation.name ?? '' };
  }

  async deleteMembership(name: string): Promise<OperationRef | null> {
    const project = /^projects\/([^/]+)\//.exec(name)?.[1];
    try {
      const operation = await this.caller.call('delete membership', name, project, async () => {
        const res = await this.hub.projects.locations.memberships.delete({ name });
        return res.data;
      });
      return { api: 'gkehub', name: operation.name ?? '' };
    } catch (error) {
      if (isMeshopsError(error, 'NOT_FOUND')) return null;
      throw error;
    }
  }

  async enableMeshFeature(project: string): Promise<OperationRef | null> {
    const parent = `projects/${project}/locations/global`;
    try {
      const operation = await this.caller.call(
        'create feature',
        `${parent}/features/${FEATURE}`,
        project,
        async () => {
          const res = await this.hub.projects.locations.features.create({
            parent,
            featureId: FEATURE,
            requestBody: {},
          });
          return res.data;
        },
      );
      return { api: 'gkehub', name: operation.name ?? '' };
    } catch (error) {
      if (isMeshopsError(error, 'ALREADY_EXISTS')) return null;
      throw error;
    }
  }

  async setMeshManagement(
    project: string,
    membershipName: string,
    management: 'MANAGEMENT_AUTOMATIC' | 'MANAGEMENT_MANUAL',
  ): Promise<OperationRef> {
    const name = `projects/${project}/locations/global/features/${FEATURE}`;
    // Only this membership's key: the map merges server-side, so other memberships keep their specs.
    const requestBody: gkehub_v1.Schema$Feature = {
      membershipSpecs: { [membershipName]: { mesh: { management } } },
    };
    const operation = await this.caller.call('update feature', name, project, async () => {
      const res = await this.hub.projects.locations.features.patch({
        name,
        updateMask: 'membershipSpecs',
        requestBody,
      });
      return res.data;
    });
    return { api: 'gkehub', name: operation.name ?? '' };
  }

  async readMeshFeature(project: string): Promise<FleetMesh> {
    const name = `projects/${project}/locations/global/features/${FEATURE}`;
    let feature: gkehub_v1.Schema$Feature;
    try {
      feature = await this.caller.call('get feature', name, project, async () => {
        const res = await this.hub.projects.locations.features.get({ name });
        return res.data;
      });
    } catch (error) {
      if (isMeshopsError(error, 'NOT_FOUND')) return { enabled: false, memberships: {} };
      throw error;
    }
    const memberships: FleetMesh['memberships'] = {};
    for (const [key, spec] of Object.entries(feature.membershipSpecs ?? {})) {
      memberships[key] = { management: spec.mesh?.management ?? null, state: null };
    }
    for (const [key, state] of Object.entries(feature.membershipStates ?? {})) {
      memberships[key] = {
        management: memberships[key]?.management ?? null,
        state: toMeshState(state.servicemesh),
      };
    }
    return { enabled: true, memberships };
  }

  /** A read of the feature at most sharedReadMs old (in flight or done), else a new one. */
  private sharedRead(project: string): Promise<FleetMesh> {
    const now = this.now();
    const recent = this.sharedReads.get(project);
    if (recent && now - recent.at <= this.sharedReadMs) return recent.read;
    const read = this.readMeshFeature(project);
    this.sharedReads.set(project, { at: now, read });
    // A failed read answers nobody else: the next poll tries again.
    read.catch(() => {
      if (this.sharedReads.get(project)?.read === read) this.sharedReads.delete(project);
    });
    return read;
  }

  async meshState(project: string, membershipName: string, projectNumber: string): Promise<MeshState | null> {
    const { memberships } = await (this.sharedReadMs > 0
      ? this.sharedRead(project)
      : this.readMeshFeature(project));
    const entry =
      memberships[membershipKeyWithNumber(membershipName, projectNumber)] ?? memberships[membershipName];
    return entry?.state ?? null;
  }

  async operationStatus(name: string): Promise<OperationStatus> {
    const operation = await this.caller.call('get operation', name, undefined, async () => {
      const res = await this.hub.projects.locations.operations.get({ name });
      return res.data;
    });
    return {
      done: operation.done === true,
      ...(operation.error ? { error: operation.error.message ?? `code ${operation.error.code ?? '?'}` } : {}),
    };
  }
}
