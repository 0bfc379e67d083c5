/**
 * What a watched channel reads when a cluster's managed mesh changed: one message per read that
 * found changes, each change with before → after and what to check.
 */
import type { KnownBlock } from '@slack/web-api';
import type { MessageContent } from '../store/messages.js';
import type { MeshEvent } from '../workflows/meshWatch.js';
import { describeConditions, truncate } from './render.js';

const IMPLEMENTATION_DOC = 'https://cloud.google.com/service-mesh/docs/check-control-plane-implementation';
const MDP_DOC = 'https://cloud.google.com/service-mesh/docs/operate-and-maintain/managed-data-plane';

function code(value: string | null): string {
  return value ? `\`${value}\`` : '_none_';
}

function percent(done: number, pods: number): string {
  return `${Math.round((done / Math.max(1, pods)) * 100)} %`;
}

function list(items: string[], max = 15): string {
  const shown = items.slice(0, max).map((i) => `\`${i}\``);
  return items.length > max ? `${shown.join(', ')} and ${items.length - max} more` : shown.join(', ');
}

/** One line (or a few) for one change. */
export function meshEventText(cluster: string, event: MeshEvent): string {
  const project = cluster.split('/')[0] ?? '';
  switch (event.type) {
    case 'revisionReady':
      return `:white_check_mark: Control-plane revision ${code(event.revision)} is ready. Check: \`kubectl get controlplanerevisions -n istio-system\``;
    case 'revisionsChanged':
      return `:twisted_rightwards_arrows: Control-plane revisions: ${event.from.map(code).join(', ') || '_none_'} → ${event.to.map(code).join(', ') || '_none_'}. Namespaces labelled \`istio.io/rev\` with a revision that is gone get no sidecar for new pods: relabel them.`;
    case 'implementationChanged':
      if (event.to === 'UPDATING') {
        return `:building_construction: Google is moving this cluster's managed control plane from ${code(event.from)} to Traffic Director (its "modernization"): afterwards the control plane runs in Google's infrastructure and has no per-cluster revisions. Nothing to do now; check that you use only features it supports. <${IMPLEMENTATION_DOC}|How to check>`;
      }
      if (event.to === 'TRAFFIC_DIRECTOR') {
        return `:building_construction: The managed control plane is now \`TRAFFIC_DIRECTOR\` (was ${code(event.from)}): it is served by Google's infrastructure, with no per-cluster control-plane revision or istiod of yours to upgrade. Proxies are still upgraded by the managed data plane. <${IMPLEMENTATION_DOC}|Details>`;
      }
      return `:building_construction: Control-plane implementation: ${code(event.from)} → ${code(event.to)}. <${IMPLEMENTATION_DOC}|Details>`;
    case 'channelChanged':
      return `:satellite_antenna: GKE release channel: ${code(event.from)} → ${code(event.to)}. The managed revision follows the channel, and the managed data plane will move every proxy to that channel's version.`;
    case 'rolloutStarted':
      return `:arrows_counterclockwise: Proxy roll-out started: ${code(event.from)} → ${code(event.to)}, ${event.pods} pod(s) to restart. The managed data plane evicts pods gradually, honouring PodDisruptionBudgets (it can take up to two weeks). <${MDP_DOC}|Managed data plane>`;
    case 'rolloutProgress':
      return `:arrows_counterclockwise: Proxy roll-out to ${code(event.to)}: ${event.done} of ${event.pods} pod(s) (${percent(event.done, event.pods)}).`;
    case 'rolloutFinished':
      return [
        `:white_check_mark: Proxy roll-out to ${code(event.to)} finished: ${event.pods} pod(s) run it.`,
        event.optedOut.length
          ? `Opted out of the managed data plane, so left on their version: ${list(event.optedOut)} (annotation \`mesh.cloud.google.com/proxy: '{"managed":"false"}'\`); restart them yourself when ready.`
          : '',
      ]
        .filter(Boolean)
        .join('\n');
    case 'rolloutFailed':
      return [
        `:warning: Proxy upgrade${event.to ? ` to ${code(event.to)}` : ''} failed on ${list(event.pods)}.`,
        ...event.reasons.slice(0, 5).map((r) => `• \`${r.pod}\`: ${r.message}`),
        'Check: `kubectl get pods -A -l dataplane-upgrade=failed` and their PodDisruptionBudgets.',
      ].join('\n');
    case 'degraded':
      return `:rotating_light: Mesh health degraded (control/data plane ${event.states})${describeConditions(event.conditions)}\nCheck: \`gcloud container fleet mesh describe --project ${project}\``;
    case 'recovered':
      return `:green_heart: Mesh healthy again (control/data plane ${event.states}).`;
  }
}

/** A one-line summary of a change, for `/mesh list`. */
export function meshEventSummary(event: MeshEvent): string {
  switch (event.type) {
    case 'revisionReady':
      return `revision ${event.revision} ready`;
    case 'revisionsChanged':
      return `revisions → ${event.to.join(', ') || 'none'}`;
    case 'implementationChanged':
      return `implementation → ${event.to}`;
    case 'channelChanged':
      return `channel → ${event.to ?? 'none'}`;
    case 'rolloutStarted':
      return `proxy roll-out to ${event.to} started`;
    case 'rolloutProgress':
      return `proxy roll-out ${event.done}/${event.pods}`;
    case 'rolloutFinished':
      return `proxy roll-out to ${event.to} finished`;
    case 'rolloutFailed':
      return `proxy upgrade failed on ${event.pods.length} pod(s)`;
    case 'degraded':
      return `degraded (${event.states})`;
    case 'recovered':
      return 'healthy again';
  }
}

/** The message for all changes one read found; Block Kit allows 50 blocks, so at most 40 changes. */
export function meshChangeMessage(cluster: string, events: MeshEvent[]): MessageContent {
  const blocks: KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: `:ocean: *The mesh of \`${cluster}\` changed*` } },
    ...events.slice(0, 40).map((event): KnownBlock => ({
      type: 'section',
      text: { type: 'mrkdwn', text: truncate(meshEventText(cluster, event)) },
    })),
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `\`/mesh status ${cluster}\` for the whole picture · \`/mesh unwatch ${cluster}\` to stop these`,
        },
      ],
    },
  ];
  return {
    text: `The mesh of ${cluster} changed: ${events.map(meshEventSummary).join('; ')}`.slice(0, 3000),
    blocks,
  };
}
