/**
 * What Google does to a cluster's managed mesh on its own schedule, as the emulator's control endpoint
 * offers it (POST /_sim/mesh): a revision upgrade (the GKE release channel moves and the managed
 * revision follows), a new proxy version rolled out, the move to Traffic Director, a health problem and
 * its recovery. For a newcomer in the local console to see a watch notification arrive.
 */
import type { SimCluster } from './cluster.js';
import { channelProxyVersions, managedRevision } from './mesh.js';
import type { ManagedChannel } from './types.js';
import type { SimWorld } from './world.js';

export type MeshChange =
  | { change: 'channel'; channel: ManagedChannel }
  | { change: 'proxy' }
  | { change: 'modernize' }
  | { change: 'degrade' }
  | { change: 'recover' };

/** A change with what it will do, for a person to pick (a JSON value). */
export type MeshChangeOffer = { change: MeshChange['change']; channel?: ManagedChannel; label: string };

const managedChannels: ManagedChannel[] = ['RAPID', 'REGULAR', 'STABLE'];
const simpleChanges = ['proxy', 'modernize', 'degrade', 'recover'] as const;

/** How long Google reports UPDATING before TRAFFIC_DIRECTOR, in real ms (two watcher reads in local mode). */
const modernizingMs = 8000;

/** The managed proxy version after `current`: one minor up, e.g. 1.23.6-asm.14 → 1.24.6-asm.14. */
export function nextProxyVersion(current: string): string {
  const [, major = '1', minor = '23', rest = '6-asm.14'] = /^(\d+)\.(\d+)\.(.*)$/.exec(current) ?? [];
  return `${major}.${Number(minor) + 1}.${rest}`;
}

export function availableChanges(world: SimWorld, cluster: SimCluster): MeshChangeOffer[] {
  const channels = managedChannels
    .filter((channel) => channel !== cluster.releaseChannel)
    .map((channel) => ({
      change: 'channel' as const,
      channel,
      label: `Revision upgrade: release channel ${cluster.releaseChannel} → ${channel} (${managedRevision(channel)}, proxies ${channelProxyVersions[channel]})`,
    }));
  const next = nextProxyVersion(world.rolloutStatus(cluster.ref).target);
  return [
    ...channels,
    { change: 'proxy', label: `Roll out proxy ${next}, one pod at a time` },
    { change: 'modernize', label: 'Move the control plane to Traffic Director' },
    { change: 'degrade', label: 'Degrade the control plane (MESH_IAM_PERMISSION_DENIED)' },
    { change: 'recover', label: 'Recover the control plane' },
  ];
}

/** A change from a request body, or what is wrong with it. */
export function parseMeshChange(body: Record<string, unknown>): MeshChange | string {
  const { change, channel } = body;
  if (change === 'channel') {
    return managedChannels.includes(channel as ManagedChannel)
      ? { change, channel: channel as ManagedChannel }
      : `channel must be one of ${managedChannels.join(', ')}`;
  }
  if ((simpleChanges as readonly unknown[]).includes(change)) {
    return { change: change as (typeof simpleChanges)[number] };
  }
  return `change must be one of channel, ${simpleChanges.join(', ')}`;
}

/** Makes the change happen to the cluster `ref` and says what Google does, in a sentence. */
export function applyMeshChange(world: SimWorld, ref: string, change: MeshChange): string {
  switch (change.change) {
    case 'channel':
      world.setReleaseChannel(ref, change.channel);
      return `${ref} moves to the ${change.channel} channel: ${managedRevision(change.channel)} is provisioned, then the proxies roll to ${channelProxyVersions[change.channel]}.`;
    case 'proxy': {
      const next = nextProxyVersion(world.rolloutStatus(ref).target);
      world.upgradeMesh(ref, { proxyVersion: next, podIntervalMs: 30_000 });
      return `Google rolls the proxies of ${ref} to ${next}, one pod at a time.`;
    }
    case 'modernize':
      world.upgradeMesh(ref, { implementation: 'UPDATING' });
      setTimeout(() => {
        if (world.cluster(ref)) world.upgradeMesh(ref, { implementation: 'TRAFFIC_DIRECTOR' });
      }, modernizingMs).unref();
      return `Google migrates ${ref} from ISTIOD to TRAFFIC_DIRECTOR (UPDATING for a few seconds).`;
    case 'degrade':
      world.degradeMesh(ref);
      return `The control plane of ${ref} turns DEGRADED (MESH_IAM_PERMISSION_DENIED).`;
    case 'recover':
      world.recoverMesh(ref);
      return `The control plane of ${ref} is healthy again.`;
  }
}
