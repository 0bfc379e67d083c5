/**
 * `/mesh status`: a cluster's mesh snapshot in Block Kit, for the person who asked (ephemeral).
 * Each section stays within Slack's 3,000 characters; long lists are cut with a count.
 */
import type { KnownBlock } from '@slack/web-api';
import type { MeshopsError } from '../errors.js';
import type { AuditEntry } from '../store/audit.js';
import type { MessageContent } from '../store/messages.js';
import type { MeshConfigRead, MeshSnapshot } from '../workflows/snapshot.js';
import type { BatchMember, MeshConfigPlan, RunRecord } from '../workflows/run.js';
import { describePlane, meshRevisionByChannel } from '../workflows/enableCluster.js';
import { listed } from '../text.js';
import { MAX_BLOCKS, packed, planLine, section } from './blocks.js';
import { describeConditions, diffBlock, labelChange, rootMessage } from './render.js';
import { meshSettingsOf, type MeshObservability } from '../workflows/meshYaml.js';
import { moveCommand, revisionUses, type RevisionUse } from '../workflows/steps/inClusterIstiod.js';
import { memberLines } from './renderBatchDryRun.js';
import { dryRunLines } from './renderDryRun.js';
import { age } from './time.js';

export interface LastRun {
  run: RunRecord;
  permalink?: string;
}

function lastRunLine(last: LastRun | null, now: number): string {
  if (!last) return 'No meshops run for this cluster yet.';
  const { run, permalink } = last;
  const thread = permalink ? ` — <${permalink}|thread>` : ` in <#${run.slack.channel}>`;
  return `Last run \`${run.id}\` (${run.kind}${run.dryRun ? ', a dry run' : ''}) *${run.status}* ${age(now - run.updatedAt)} ago, asked by <@${run.requester.userId}>${thread}.`;
}

/** What to say when there is no managed mesh to show, or null when there is one. */
function noMesh(snapshot: MeshSnapshot, fleet: string | undefined): string | null {
  const ref = snapshot.cluster;
  const project = ref.split('/')[0] ?? '';
  const fleetProject = fleet ?? project;
  if (!snapshot.found) {
    return `:grey_question: \`${ref}\` was not found in project ${project}. Check the name with \`gcloud container clusters list --project ${project}\`.`;
  }
  if (!snapshot.membership) {
    return `:information_source: \`${ref}\` is not registered in the fleet of ${fleetProject}, so it has no managed Cloud Service Mesh. To put it on the mesh: \`/mesh enable cluster ${ref}${fleet ? ` fleet=${fleet}` : ''}\``;
  }
  const managed = snapshot.management === 'MANAGEMENT_AUTOMATIC' || snapshot.controlPlane !== null;
  if (!managed) {
    return `:information_source: \`${ref}\` is registered in the fleet as \`${snapshot.membership}\`, but managed Cloud Service Mesh is off for it${snapshot.management ? ` (${snapshot.management})` : ''}. To turn it on: \`/mesh enable cluster ${ref}\``;
  }
  return null;
}

/** `default` (proxy 1.11.5-asm.3 on 2 pod(s)): a namespace and the proxies its sampled pods run. */
function namespaceWithProxies(snapshot: MeshSnapshot, name: string): string {
  const versions = Object.entries(snapshot.proxies?.byNamespace?.[name] ?? {})
    .sort(([, a], [, b]) => b - a)
    .map(([version, pods]) => `${version} on ${pods} pod(s)`);
  return `\`${name}\`${versions.length ? ` (proxy ${versions.join(', ')})` : ''}`;
}

/** Namespaces named per revision before a count of the rest. */
const REVISION_NAMESPACES_SHOWN = 10;

function revisionLine(snapshot: MeshSnapshot, use: RevisionUse, managedState: string): string {
  const what =
    use.kind === 'in-cluster'
      ? `in-cluster istiod \`${use.istiod!.name}\` ${use.istiod!.version ?? '(no image tag)'}, ${use.istiod!.readyReplicas}/${use.istiod!.replicas} ready`
      : use.kind === 'managed'
        ? `managed, ${managedState}`
        : ':warning: nothing serves it: pods restarted there get no sidecar';
  const namespaces = use.namespaces.length
    ? listed(
        use.namespaces.map((name) => namespaceWithProxies(snapshot, name)),
        REVISION_NAMESPACES_SHOWN,
      )
    : 'no namespace';
  return `• \`${use.revision}\` — ${what}: ${namespaces}`;
}

/**
 * The control-plane revisions of the cluster and which namespaces use which, with the proxies they
 * run; shown where an in-cluster istiod or revision labels are in use (seed 002), with the way to move.
 */
function revisionsSection(snapshot: MeshSnapshot): KnownBlock[] {
  const labelled = snapshot.namespaces.filter((ns) => ns.label.startsWith('istio.io/rev='));
  if (snapshot.istiods.length === 0 && labelled.length === 0) return [];
  const channel = snapshot.gke ? meshRevisionByChannel[snapshot.gke.releaseChannel] : undefined;
  const managedOn = snapshot.management === 'MANAGEMENT_AUTOMATIC' || snapshot.controlPlane !== null;
  const managed = [...snapshot.revisions.map((r) => r.name), ...(channel ? [channel] : [])];
  const managedState = managedOn
    ? `control plane ${snapshot.controlPlane?.state ?? 'not reported yet'}, data plane ${snapshot.dataPlane?.state ?? 'not reported yet'}`
    : `not provisioned (\`/mesh enable cluster ${snapshot.cluster}\`)`;
  const uses = revisionUses({ istiods: snapshot.istiods, namespaces: snapshot.namespaces, managed });
  const injected = snapshot.namespaces
    .filter((ns) => ns.label === 'istio-injection=enabled')
    .map((ns) => namespaceWithProxies(snapshot, ns.name));
  const lines = [
    '*Istiod revisions*, and the namespaces on each',
    ...uses.map((use) => revisionLine(snapshot, use, managedState)),
    ...(injected.length
      ? [
          `• \`istio-injection=enabled\` (the default injector): ${listed(injected, REVISION_NAMESPACES_SHOWN)}`,
        ]
      : []),
  ];
  const onInCluster = uses.filter((u) => u.kind !== 'managed').flatMap((u) => u.namespaces);
  if (onInCluster.length && channel) {
    lines.push(
      managedOn
        ? `To move a namespace to \`${channel}\`: \`${moveCommand(snapshot.cluster, onInCluster[0]!)}\` (one per command: relabel, restart, verify, after approval); once none is left on a revision, remove that istiod.`
        : `To move to the managed control plane: \`/mesh enable cluster ${snapshot.cluster}\` provisions it next to the in-cluster istiod (which keeps serving), then \`${moveCommand(snapshot.cluster, onInCluster[0]!)}\` moves one namespace at a time.`,
    );
  }
  return [section(lines.join('\n'))];
}

/**
 * One line on what the channel's MeshConfig says about access logs and tracing, and how to change it;
 * or that it is not there yet, or could not be read (the rest of the status stands).
 */
function meshConfigLine(cluster: string, read: MeshConfigRead): string {
  const where = `\`${read.namespace}/${read.configMap}\``;
  if (read.state === 'absent')
    return `Mesh config: no ConfigMap ${where} yet (not provisioned there yet): Istio defaults, access logs off.`;
  if (read.state === 'unreadable')
    return `:warning: Mesh config: ConfigMap ${where} could not be read (${read.error}); the rest of this status is not affected.`;
  const logs = read.accessLogFile ? `access logs *on* (\`${read.accessLogFile}\`)` : 'access logs *off*';
  // Istio's ProxyConfig samples 1% of requests when `sampling` is not set.
  const sampling =
    read.tracingSampling !== null
      ? `tracing sampling *${read.tracingSampling}%*`
      : 'tracing sampling not set (Istio default 1%)';
  const tracer = read.tracer ? `, tracer \`${read.tracer}\`` : '';
  return `Mesh config (${where}): ${logs} · ${sampling}${tracer}. To change: \`/mesh config ${cluster} access-log=on|off tracing=SAMPLING\``;
}

const auditVerbs: Record<AuditEntry['action'], string> = {
  approved: 'approved',
  rejected: 'rejected',
  'click-refused': 'click refused',
  cancelled: 'cancelled',
  'cancel-refused': 'cancel refused',
  'request-refused': 'request refused',
};

/** The cluster's audit trail, newest first: who decided, whose click or cancel did not count and why. */
function auditBlock(audit: readonly AuditEntry[]): KnownBlock[] {
  if (!audit.length) return [];
  const lines = audit.map(
    (e) =>
      `• <!date^${Math.floor(e.at / 1000)}^{date_short_pretty} {time}|${new Date(e.at).toISOString()}> <@${e.user}> ${auditVerbs[e.action]}` +
      (e.runId ? ` \`${e.runId}\`` : '') +
      (e.reason ? `: ${e.reason}` : ''),
  );
  return [section(`*Audit* (newest first)\n${lines.join('\n')}`)];
}

export function statusMessage(
  snapshot: MeshSnapshot,
  last: LastRun | null,
  now: number,
  audit: readonly AuditEntry[] = [],
  /** The fleet read when it is not the cluster's own project's (a fleet host's) or `fleet=` named it. */
  fleet?: string,
): MessageContent {
  const title = `*Cloud Service Mesh on \`${snapshot.cluster}\`*`;
  const missing = noMesh(snapshot, fleet);
  if (missing) {
    return {
      text: missing,
      blocks: [
        section(`${title}\n${missing}`),
        ...revisionsSection(snapshot),
        ...auditBlock(audit),
        { type: 'context', elements: [{ type: 'mrkdwn', text: lastRunLine(last, now) }] },
      ],
    };
  }
  const gke = snapshot.gke;
  const lines = [
    title,
    gke
      ? `GKE ${gke.masterVersion} · ${gke.releaseChannel} channel → ${meshRevisionByChannel[gke.releaseChannel]}`
      : '',
    `Fleet membership \`${snapshot.membership}\` · ${snapshot.management ?? 'no mesh spec'}`,
    `Control plane: ${snapshot.controlPlane ? describePlane(snapshot.controlPlane) : '_unknown_'}`,
    `Data plane: ${snapshot.dataPlane ? describePlane(snapshot.dataPlane) : '_unknown_'}`,
  ].filter(Boolean);
  const mesh: string[] = [];
  if (snapshot.revisions.length) {
    mesh.push(
      `Control-plane revisions: ${snapshot.revisions
        .map((r) => `\`${r.name}\` (${r.channel || 'no channel'}, ${r.ready ? 'ready' : 'not ready'})`)
        .join(', ')}`,
    );
  }
  for (const dpc of snapshot.dataPlaneControls) {
    mesh.push(
      `Managed data plane \`${dpc.revision || dpc.name}\`: proxy ${dpc.proxyVersion || '?'} (${dpc.state || 'no state'})`,
    );
  }
  if (snapshot.conditions.length) mesh.push(`Conditions:${describeConditions(snapshot.conditions)}`);
  if (snapshot.meshConfig) mesh.push(meshConfigLine(snapshot.cluster, snapshot.meshConfig));
  const workloads: string[] = [];
  workloads.push(
    snapshot.namespaces.length
      ? `Injected namespaces: ${listed(snapshot.namespaces.map((ns) => `\`${ns.name}\` (${ns.label})`))}`
      : 'Injected namespaces: none',
  );
  const proxies = snapshot.proxies;
  if (proxies && proxies.sampled > 0) {
    const versions = Object.entries(proxies.versions)
      .sort(([, a], [, b]) => b - a)
      .map(([version, pods]) => `${version} on ${pods} pod(s)`)
      .join(', ');
    const sample =
      proxies.sampled < proxies.total ? ` (a sample of ${proxies.sampled} of ${proxies.total} pods)` : '';
    workloads.push(`Proxies: ${versions}${sample}`);
    if (proxies.failed.length)
      workloads.push(`:warning: Upgrade failed on ${listed(proxies.failed.map((p) => `\`${p}\``))}`);
    if (proxies.optedOut.length)
      workloads.push(
        `Opted out of the managed data plane (stay on their version): ${listed(proxies.optedOut.map((w) => `\`${w}\``))}`,
      );
  } else {
    workloads.push('Proxies: no pod with istio-proxy');
  }
  for (const failure of snapshot.upgradeFailures.slice(0, 5))
    workloads.push(`• \`${failure.pod}\`: ${failure.message}`);
  if (snapshot.kubeError)
    workloads.push(`:warning: The cluster's API server could not be read: ${snapshot.kubeError}`);
  const blocks: KnownBlock[] = [section(lines.join('\n'))];
  if (mesh.length) blocks.push(section(mesh.join('\n')));
  blocks.push(...revisionsSection(snapshot));
  blocks.push(section(workloads.join('\n')));
  blocks.push(...auditBlock(audit));
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: lastRunLine(last, now) }] });
  const cp = snapshot.controlPlane?.state ?? 'unknown';
  const dp = snapshot.dataPlane?.state ?? 'unknown';
  return { text: `Cloud Service Mesh on ${snapshot.cluster}: control plane ${cp}, data plane ${dp}`, blocks };
}

/**
 * `/mesh status RUN_ID`: a run's checklist and its whole plan, every namespace with its pods and
 * workloads, in as many sections as it takes (within Slack's 50 blocks).
 */
/** `/mesh status` when the world could not be read: what failed and what to do, not silence. */
export function statusFailedMessage(cluster: string, error: MeshopsError): MessageContent {
  // A retryable error's own hint ("retrying") is no longer true once the worker gave up.
  const hint = error.retryable
    ? `it kept failing, also when tried again: ask \`/mesh status ${cluster}\` again in a few minutes`
    : error.hint;
  const text = [
    `:warning: Could not read the status of \`${cluster}\`: ${error.message}`,
    hint ? `*What to do:* ${hint}` : '',
    `Nothing was changed. ${error.code}`,
  ]
    .filter(Boolean)
    .join('\n');
  return { text, blocks: [section(text)] };
}

/** `access logs off → on · tracing sampling 10% → 20%`: what the edit changes, in words (null if unreadable). */
function settingsChange(plan: MeshConfigPlan): string | null {
  const where = `${plan.namespace}/${plan.configMap}`;
  let before: MeshObservability;
  let after: MeshObservability;
  try {
    before = meshSettingsOf(plan.before, where);
    after = meshSettingsOf(plan.after, where);
  } catch {
    return null;
  }
  const logs = (s: MeshObservability) => (s.accessLogFile ? 'on' : 'off');
  const sampling = (s: MeshObservability) =>
    s.tracingSampling === null ? 'not set' : `${s.tracingSampling}%`;
  const parts = [
    logs(before) !== logs(after) ? `access logs ${logs(before)} → ${logs(after)}` : '',
    sampling(before) !== sampling(after) ? `tracing sampling ${sampling(before)} → ${sampling(after)}` : '',
  ].filter(Boolean);
  return parts.length ? parts.join(' · ') : null;
}

/** A `/mesh config` run's edit of `data.mesh`, as its record keeps it: the same diff its prompt showed. */
function meshConfigBlocks(run: Extract<RunRecord, { kind: 'mesh-config' }>): KnownBlock[] {
  const plan = run.facts.meshConfig;
  if (!plan)
    return [section('*Mesh config*: not planned yet (the ConfigMap is read just before the approval).')];
  const where = `\`${plan.namespace}/${plan.configMap}\``;
  if (!plan.diff)
    return [section(`*Mesh config*: ConfigMap ${where} already had what was asked; nothing to change.`)];
  const written = run.facts.written;
  const fate = written
    ? written.created
      ? 'created'
      : 'written'
    : run.status === 'succeeded'
      ? 'not written: someone else had made it so meanwhile'
      : 'not written';
  const read =
    plan.resourceVersion === null ? 'it did not exist' : `read at resourceVersion ${plan.resourceVersion}`;
  const change = settingsChange(plan);
  return [
    section(
      [
        `*Mesh config*: \`data.mesh\` of ConfigMap ${where} (${read}) — ${fate}.`,
        `${change ? `${change}. ` : ''}Before → after (\`-\` before, \`+\` after):`,
        diffBlock(plan),
      ].join('\n'),
    ),
  ];
}

export function runStatusMessage(run: RunRecord, permalink?: string): MessageContent {
  const root = rootMessage(run);
  const plan = run.facts.plan;
  const blocks: KnownBlock[] = [...root.blocks];
  if (run.kind === 'enable-batch') {
    // Every cluster of the batch: its run and where it is, or what each will change once approved.
    const planned = new Map((run.facts.tally?.planned ?? []).map((p) => [p.runId, p]));
    const failed = new Map((run.facts.tally?.failed ?? []).map((f) => [f.runId, f]));
    const members: BatchMember[] = run.facts.members ?? (run.facts.resolved ?? []).map((ref) => ({ ref }));
    const lines =
      run.dryRun && run.facts.members
        ? memberLines(run)
        : members.map((m) => {
            const { runId, skipped } = m;
            if (!runId) return `• \`${m.ref}\`${skipped ? `: not started, ${skipped}` : ''}`;
            const plan = planned.get(runId);
            const failure = failed.get(runId);
            const what = failure
              ? `:x: ${failure.message}`
              : plan
                ? `plan: ${plan.namespaces.map((n) => `\`${n}\``).join(', ')}, ${plan.restarts} of ${plan.pods} pod(s) restart`
                : '';
            return `• \`${m.ref}\` run \`${runId}\`${what ? ` — ${what}` : ''}`;
          });
    const { blocks: list, left } = packed(lines, MAX_BLOCKS - blocks.length - 1);
    blocks.push(...list);
    if (left) blocks.push(section(`…and ${left} more cluster(s); \`/mesh status RUN_ID\` shows each run.`));
  } else if (run.dryRun) {
    const { blocks: list, left } = packed(dryRunLines(run), MAX_BLOCKS - blocks.length - 1);
    blocks.push(...list);
    if (left) blocks.push(section(`…and ${left} more line(s) that do not fit in one Slack message.`));
  } else if (run.kind === 'mesh-config') {
    blocks.push(...meshConfigBlocks(run));
  } else if (plan) {
    const pods = plan.namespaces.reduce((sum, ns) => sum + ns.pods, 0);
    blocks.push(
      section(
        `*Plan* \`${run.approval?.planHash ?? 'not approved yet'}\`: ${labelChange(plan)} on ${plan.namespaces.length} namespace(s), ${pods} pod(s) (${plan.reason}).`,
      ),
    );
    const { blocks: list, left } = packed(plan.namespaces.map(planLine), MAX_BLOCKS - blocks.length - 1);
    blocks.push(...list);
    if (left) blocks.push(section(`…and ${left} more namespace(s) that do not fit in one Slack message.`));
  } else {
    blocks.push(section('*Plan*: not made yet (it is made just before the approval).'));
  }
  if (permalink)
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `<${permalink}|Open the run's thread>` }],
    });
  return { text: root.text, blocks: blocks.slice(0, MAX_BLOCKS) };
}
