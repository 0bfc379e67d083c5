/**
 * Block Kit for runs: the root checklist, the approval prompt and its closed form, the outcome.
 * Slack limits: 50 blocks per message, 3000 characters per section text.
 */
import type { KnownBlock } from '@slack/web-api';
import { listed } from '../text.js';
import { callLine, commandOf } from './planCalls.js';
import { batchApprovalSummary, batchOptions, batchTable } from './renderBatch.js';
import { describePlane } from '../workflows/enableCluster.js';
import { describeSettings, settingsOf } from '../workflows/meshConfig.js';
import { plannedNamespaces } from '../workflows/steps/injection.js';
import {
  freedRevisions,
  moveCommand,
  relabelOf,
  uninstallCommands,
  unusedCheck,
} from '../workflows/steps/inClusterIstiod.js';
import type { Plane, RunEvent } from '../workflows/events.js';
import type { MeshCondition, PlaneState } from '../workflows/ports.js';
import { workflowOf } from '../workflows/registry.js';
import {
  clusterKey,
  type DryRunPlan,
  type InClusterControlPlane,
  type InClusterMigration,
  type InjectionPlan,
  type MeshConfigPlan,
  type Outcome,
  type RunRecord,
  type StepStatus,
} from '../workflows/run.js';

export const APPROVE_ACTION = 'approval_approve';
export const REJECT_ACTION = 'approval_reject';
/** The prompt's optional reason field, read from the click's `state` when Reject is clicked. */
export const REASON_BLOCK = 'approval_reason';
export const REASON_ACTION = 'reason';

const SECTION_LIMIT = 3000;

const stepIcons: Record<StepStatus, string> = {
  pending: ':white_circle:',
  running: ':hourglass_flowing_sand:',
  done: ':white_check_mark:',
  skipped: ':heavy_minus_sign:',
  failed: ':x:',
};

const statusLines: Record<RunRecord['status'], string> = {
  queued: ':inbox_tray: Queued',
  running: ':arrow_forward: Running',
  waiting: ':hourglass_flowing_sand: Waiting',
  'awaiting-approval': ':raised_hand: Waiting for approval',
  succeeded: ':tada: Succeeded',
  failed: ':x: Failed',
  rejected: ':no_entry: Rejected',
  expired: ':alarm_clock: Expired',
  cancelled: ':octagonal_sign: Cancelled',
};

export function truncate(text: string, limit = SECTION_LIMIT): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}

/** Slack shows the reader's local time; clients that cannot see the UTC fallback. */
function slackDate(ms: number): string {
  const utc = `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time}|${utc}>`;
}

/** What a run acts on: its cluster, or a batch's count of clusters. */
function subject(run: RunRecord): string {
  return run.kind === 'enable-batch'
    ? `${run.facts.resolved?.length ?? 'several'} clusters`
    : `\`${clusterKey(run.cluster)}\``;
}

function title(run: RunRecord): string {
  return `${run.dryRun ? 'Dry run: ' : ''}${workflowOf(run.kind).title} ${subject(run)}`;
}

/** A dry run's status says that it changes nothing, and a failure is the blocker it found. */
const dryRunStatusLines: Partial<Record<RunRecord['status'], string>> = {
  queued: ':test_tube: Dry run queued: it changes nothing',
  running: ':test_tube: Dry run: reading and checking, changing nothing',
  waiting: ':test_tube: Dry run: reading and checking, changing nothing',
  succeeded: ':test_tube: Dry run done: nothing was changed; the plan is in the thread',
  failed: ':construction: Dry run found a blocker: nothing was changed; see the thread',
};

function statusLine(run: RunRecord): string {
  return (run.dryRun && dryRunStatusLines[run.status]) || statusLines[run.status];
}

export function stepTitle(run: RunRecord): string {
  return workflowOf(run.kind).titles[run.step] ?? run.step;
}

/**
 * A dry run's checklist line, when its step would change or wait for something: what it would do, not
 * what a real step says it did (a dry run registered nothing). Steps that only read say what they read.
 */
function dryRunStep(
  plan: DryRunPlan,
  step: string,
  status: StepStatus | undefined,
): [string, string] | undefined {
  if (status !== 'done') return undefined;
  const calls = plan.calls.filter((c) => c.step === step);
  if (calls.length === 1) return [':memo:', `would ${calls[0]!.change}`];
  if (calls.length > 1) return [':memo:', `would make ${calls.length} changes`];
  const wait = plan.waits.find((w) => w.step === step);
  if (wait) return [':hourglass:', `would wait for this${wait.detail ? ` (now: ${wait.detail})` : ''}`];
  if (plan.approval?.step === step) return [':raised_hand:', 'would ask for approval'];
  return undefined;
}

export function rootMessage(run: RunRecord): { text: string; blocks: KnownBlock[] } {
  const { order, titles } = workflowOf(run.kind);
  const checklist = order
    .map((step) => {
      const progress = run.steps[step];
      const [icon, detail] = (run.dryRun && dryRunStep(run.dryRun, step, progress?.status)) || [
        stepIcons[progress?.status ?? 'pending'],
        progress?.detail,
      ];
      return `${icon} ${titles[step] ?? step}${detail ? ` — ${detail}` : ''}`;
    })
    .join('\n');
  const namespaces = run.options.namespaces.length ? listed(run.options.namespaces, 10) : 'none';
  const about =
    run.kind === 'enable-batch'
      ? `Batch \`${run.id}\` · requested by <@${run.requester.userId}> · ${batchOptions(run)}`
      : run.kind === 'mesh-config'
        ? `Run \`${run.id}\` · requested by <@${run.requester.userId}> · ${describeSettings(settingsOf(run))}`
        : `Run \`${run.id}\` · requested by <@${run.requester.userId}> · namespaces: ${namespaces} · restart: ${run.options.restart}`;
  const blocks: KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: `*${title(run)}*\n${statusLine(run)}` } },
    { type: 'section', text: { type: 'mrkdwn', text: truncate(checklist) } },
    ...(run.kind === 'enable-batch'
      ? [{ type: 'section', text: { type: 'mrkdwn', text: truncate(batchTable(run)) } } satisfies KnownBlock]
      : []),
    { type: 'context', elements: [{ type: 'mrkdwn', text: truncate(about) }] },
  ];
  return { text: `${title(run)}: ${statusLine(run)}`, blocks };
}

/** "Set `a=b`, remove `c`", or "Remove `a` and `b`". */
export function labelChange(plan: InjectionPlan): string {
  const removed = plan.remove.map((key) => `\`${key}\``).join(' and ');
  return plan.set ? `Set \`${plan.set.key}=${plan.set.value}\`, remove ${removed}` : `Remove ${removed}`;
}

/** ` — relabel istio.io/rev=asm-XXXX → istio.io/rev=asm-managed` for a namespace an inject moves off an in-cluster istiod. */
function relabelNote(plan: InjectionPlan, ns: InjectionPlan['namespaces'][number]): string {
  const relabel = relabelOf(plan, ns);
  return relabel
    ? ` — relabel \`istio.io/rev=${relabel.from}\` → \`istio.io/rev=${relabel.to}\` (off the in-cluster istiod)`
    : '';
}

/** `; off the in-cluster istiod: `default` was on `asm-1115-3`` for the namespaces a relabel moved. */
function movedNote(plan: InjectionPlan): string {
  const moved = plan.namespaces.flatMap((ns) => {
    const relabel = relabelOf(plan, ns);
    return relabel ? [`\`${ns.name}\` was on \`${relabel.from}\``] : [];
  });
  return moved.length ? `; off the in-cluster istiod: ${listed(moved, 10)}` : '';
}

/** Namespaces shown by name in a migration's lines before a count of the rest. */
const MIGRATION_NAMESPACES_SHOWN = 10;

/** The last step of a migration, which the user runs, for each revision: check nothing uses it, then remove it. */
function removalLines(revisions: Array<{ revision: string; istiod?: string }>): string[] {
  return revisions.flatMap(({ revision, istiod }) => {
    const [istioctl, ...kubectl] = uninstallCommands(revision, istiod);
    return [
      `   \`${unusedCheck(revision)}\` lists none, then \`${istioctl}\``,
      `   (without istioctl: ${kubectl.map((c) => `\`${c}\``).join(' and ')})`,
    ];
  });
}

/**
 * What enable cluster's preflight says of an in-cluster control plane (seed 002): the revisions and
 * their namespaces, what the run leaves alone, and the migration path with the exact commands.
 */
export function inClusterText(run: RunRecord, found: InClusterControlPlane): string {
  const key = clusterKey(run.cluster);
  const managed = found.managedRevision;
  const asked = new Set(run.options.namespaces);
  const revisions = [
    ...new Set([...found.istiods.map((i) => i.revision), ...found.namespaces.map((ns) => ns.revision)]),
  ].sort();
  const revisionLines = revisions.map((revision) => {
    const istiod = found.istiods.find((i) => i.revision === revision);
    const serves = found.namespaces.filter((ns) => ns.revision === revision).map((ns) => `\`${ns.name}\``);
    const what = istiod
      ? `\`${istiod.name}\` ${istiod.version ?? 'unknown version'}, ${istiod.readyReplicas}/${istiod.replicas} ready`
      : 'no istiod of this revision in istio-system';
    return `• \`${revision}\`: ${what} — ${serves.length ? `serves ${listed(serves, MIGRATION_NAMESPACES_SHOWN)}` : 'no namespace on it'}`;
  });
  const leftHere = found.namespaces.filter((ns) => asked.has(ns.name)).map((ns) => `\`${ns.name}\``);
  const moves = found.namespaces
    .slice(0, MIGRATION_NAMESPACES_SHOWN)
    .map(
      (ns) =>
        `   \`${moveCommand(key, ns.name)}\` (\`istio.io/rev=${ns.revision}\` → \`istio.io/rev=${managed}\`)`,
    );
  const more = found.namespaces.length - moves.length;
  return [
    `:warning: *In-cluster control plane found* (installed by asmcli): ${revisions.map((r) => `\`${r}\``).join(', ')}`,
    ...revisionLines,
    `This run provisions the managed control plane (\`${managed}\`) next to it: the fleet steps change nothing inside the cluster, and the in-cluster istiod keeps serving its namespaces. It relabels none of them: a namespace gets one revision label, never a second one${leftHere.length ? ` (asked for here and left as they are: ${listed(leftHere, MIGRATION_NAMESPACES_SHOWN)})` : ''}.`,
    `*Migration path*, once the managed control plane and data plane are ACTIVE:`,
    `1. Move one namespace at a time (after approval, meshops relabels it in one patch, restarts its workloads and checks its pods run the managed proxy; to go back, relabel it with its old revision and restart):`,
    ...(moves.length ? moves : ['   (no namespace is on an in-cluster revision yet)']),
    ...(more > 0 ? [`   …and ${more} more namespace(s), the same way.`] : []),
    `2. When no namespace uses a revision any more, remove the in-cluster control plane:`,
    ...removalLines(
      revisions.map((revision) => ({
        revision,
        ...(found.istiods.find((i) => i.revision === revision)
          ? { istiod: found.istiods.find((i) => i.revision === revision)!.name }
          : {}),
      })),
    ),
  ].join('\n');
}

/** The prompt's lines about an in-cluster control plane: what stays on it, and what follows this run. */
function migrationLines(run: RunRecord, migration: InClusterMigration | undefined): string[] {
  if (!migration) return [];
  const key = clusterKey(run.cluster);
  const managed = migration.managedRevision;
  const lines: string[] = [];
  if (migration.moved.length === 0 && migration.left.length > 0) {
    lines.push(
      '*Not relabelled by this run* (on an in-cluster revision; a namespace gets one revision label, never two):',
    );
    for (const ns of migration.left.slice(0, MIGRATION_NAMESPACES_SHOWN)) {
      const restarts = ns.pods !== undefined ? `, ${ns.pods} pod(s) restart then` : '';
      lines.push(
        `• \`${ns.name}\` stays on \`istio.io/rev=${ns.revision}\`; later \`istio.io/rev=${ns.revision}\` → \`istio.io/rev=${managed}\` with \`${moveCommand(key, ns.name)}\`${restarts}`,
      );
    }
    if (migration.left.length > MIGRATION_NAMESPACES_SHOWN)
      lines.push(`• …and ${migration.left.length - MIGRATION_NAMESPACES_SHOWN} more, the same way.`);
    const revisions = [...new Set(migration.left.map((ns) => ns.revision))].sort();
    lines.push(
      `Last, once none uses them: remove ${revisions.map((r) => `\`${r}\``).join(', ')} (\`${uninstallCommands(revisions[0]!)[0]}\`; the thread has every command).`,
    );
    return lines;
  }
  const freed = freedRevisions(migration);
  if (freed.length > 0) {
    lines.push(
      `After this no namespace uses ${freed.map((r) => `\`${r}\``).join(', ')}: the last step is yours, remove it:`,
    );
    lines.push(
      ...removalLines(
        freed.map((revision) => {
          const istiod = migration.istiods.find((i) => i.revision === revision)?.name;
          return istiod ? { revision, istiod } : { revision };
        }),
      ),
    );
  }
  if (migration.left.length > 0) {
    lines.push(
      `Still on an in-cluster revision after this: ${listed(
        migration.left.map((ns) => `\`${ns.name}\` (${ns.revision})`),
        MIGRATION_NAMESPACES_SHOWN,
      )}; move each the same way (\`${moveCommand(key, migration.left[0]!.name)}\`).`,
    );
  }
  return lines;
}

/** Room the per-namespace lines of a prompt may take, so the whole section stays within 3,000 characters. */
const NAMESPACE_LINES_BUDGET = 2000;

/** One line per namespace while they fit, then one line that counts the rest and says where they all are. */
function namespaceLines(run: RunRecord, plan: InjectionPlan): string[] {
  const lines: string[] = [];
  let used = 0;
  for (const [index, ns] of plan.namespaces.entries()) {
    const line =
      `• \`${ns.name}\`: ${ns.pods} pod(s), ${ns.workloads.length} workload(s)` +
      (ns.podDisruptionBudgets ? `, ${ns.podDisruptionBudgets} PodDisruptionBudget(s)` : '') +
      (ns.settled ? ' — already as wanted, not restarted' : '') +
      relabelNote(plan, ns);
    if (used + line.length + 1 > NAMESPACE_LINES_BUDGET) {
      const rest = plan.namespaces.slice(index);
      const pods = rest.reduce((sum, n) => sum + n.pods, 0);
      lines.push(
        `• …and ${rest.length} more namespace(s) with ${pods} pod(s): \`/mesh status ${run.id}\` lists every one.`,
      );
      break;
    }
    lines.push(line);
    used += line.length + 1;
  }
  return lines;
}

/** Room the diff of a prompt may take, with the lines around it, within one 3,000-character section. */
const DIFF_BUDGET = 2200;

/** A `data.mesh` diff as a code block, cut to `budget` characters at a line, saying so. */
export function diffBlock(plan: MeshConfigPlan, budget = DIFF_BUDGET): string {
  let diff = plan.diff.replace(/```/g, "'''");
  if (diff.length > budget) {
    const cut = diff.slice(0, budget);
    diff = `${cut.slice(0, cut.lastIndexOf('\n'))}\n… (the diff goes on: \`kubectl get configmap -n ${plan.namespace} ${plan.configMap} -o yaml\` shows the whole)`;
  }
  return `\`\`\`\n${diff}\n\`\`\``;
}

function meshConfigSummary(run: Extract<RunRecord, { kind: 'mesh-config' }>): string {
  const plan = run.facts.meshConfig;
  if (!plan) return 'Nothing to change.';
  const where = `\`${plan.namespace}/${plan.configMap}\``;
  return [
    `*Mesh config for \`${clusterKey(run.cluster)}\`*: ${describeSettings(settingsOf(run))}`,
    plan.resourceVersion === null
      ? `ConfigMap ${where} (${run.facts.cluster?.releaseChannel ?? 'its'} channel) does not exist yet: it will be created with this \`data.mesh\`:`
      : `\`data.mesh\` of ConfigMap ${where} (${run.facts.cluster?.releaseChannel ?? 'its'} channel, resourceVersion ${plan.resourceVersion}); every other key is kept:`,
    diffBlock(plan),
    plan.replanned
      ? `:warning: Asked again: the ConfigMap was changed by someone else after the earlier prompt; this is the diff against it now.`
      : '',
  ]
    .filter(Boolean)
    .join('\n');
}

function approvalSummary(run: RunRecord): string {
  if (run.kind === 'enable-batch') return batchApprovalSummary(run);
  if (run.kind === 'mesh-config') return meshConfigSummary(run);
  const plan = run.facts.plan;
  if (!plan) return 'Nothing to change.';
  const pods = plan.namespaces.reduce((sum, ns) => sum + ns.pods, 0);
  const lines = namespaceLines(run, plan);
  const restarts = plan.namespaces.filter((ns) => !ns.settled).reduce((sum, ns) => sum + ns.pods, 0);
  if (run.kind === 'disable-cluster') {
    return [
      `*Turning managed Cloud Service Mesh off for \`${clusterKey(run.cluster)}\`*`,
      plan.namespaces.length
        ? `${labelChange(plan)} on ${plan.namespaces.length} injected namespace(s); ${run.options.restart ? `${restarts} of ${pods} pod(s) will restart without istio-proxy` : 'no restart (restart=false)'}.`
        : 'No namespace is injected by the managed mesh: no pod restarts.',
      `Then \`${run.facts.membershipName ?? 'the membership'}\` → MANAGEMENT_MANUAL (only this membership)${run.options.unregister ? ', and the membership is deleted from the fleet' : '; the membership stays'}.`,
      ...lines,
    ].join('\n');
  }
  return [
    `*${plan.set ? 'Sidecar injection' : 'Removing sidecar injection'} for \`${clusterKey(run.cluster)}\`*`,
    `${labelChange(plan)} (${plan.reason}).`,
    `Mesh: ${run.facts.meshRevision ?? 'managed'} · ${run.options.restart ? `${restarts} of ${pods} pod(s) will restart` : 'no restart (restart=false)'}`,
    ...lines,
    ...migrationLines(run, run.facts.migration),
  ].join('\n');
}

/** `<@U…>` for a user, `<!subteam^S…>` for a user group: Slack renders both as names. */
export function mention(id: string): string {
  return id.startsWith('S') ? `<!subteam^${id}>` : `<@${id}>`;
}

/** The prompt's actions block: a click counts only from this block of this run's current prompt. */
export function approvalBlockId(runId: string, planHash: string): string {
  return `approval:${runId}:${planHash}`;
}

/** What a button carries: the run and the plan the approver saw. */
export function approvalButtonValue(runId: string, planHash: string): string {
  return `${runId}:${planHash}`;
}

export function parseApprovalButtonValue(value: string): { runId: string; planHash: string } {
  const [runId = '', planHash = ''] = value.split(':');
  return { runId, planHash };
}

/** Who may approve a run of `requester`'s: "Needs one approver of @a, @b, not @requester (who asked)." */
export function whoMayApprove(
  approval: { required: number; approvers: string[] } | undefined,
  requester: string,
): string {
  if (!approval) return '';
  const who = approval.approvers.length
    ? approval.approvers.map(mention).join(', ')
    : 'nobody (MESHOPS_APPROVERS is empty)';
  return approval.required > 1
    ? `Needs ${approval.required} different approvers of ${who}, neither of them <@${requester}> (who asked).`
    : `Needs one approver of ${who}, not <@${requester}> (who asked).`;
}

function approvalProgress(run: RunRecord): string {
  const approval = run.approval;
  if (!approval?.approvals.length || approval.decision) return '';
  const by = approval.approvals.map((a) => `<@${a.by}> ${slackDate(a.at)}`).join(', ');
  const left = approval.required - approval.approvals.length;
  return `\n:white_check_mark: Approved by ${by}: ${left} more approver(s) needed, someone else.`;
}

/** Room the calls of a prompt's "after approval" section may take, with its head and tail. */
const AFTER_APPROVAL_BUDGET = 2600;

/**
 * What approving lets happen, call by call, as a dry run of the same command lists it (the steps
 * after the approval were rehearsed through the dry-run decorator when the prompt was asked for).
 */
function afterApprovalText(run: RunRecord): string | null {
  const after = run.approval?.after;
  if (!after) return null;
  const { titles } = workflowOf(run.kind);
  const lines = [
    ...after.calls.map(callLine),
    ...after.waits.map((w) => `• then waits for *${titles[w.step] ?? w.step}*`),
  ];
  const shown: string[] = [];
  let used = 0;
  for (const line of lines) {
    if (used + line.length + 1 > AFTER_APPROVAL_BUDGET) break;
    shown.push(line);
    used += line.length + 1;
  }
  const left = after.total - after.calls.length + (lines.length - shown.length);
  return [
    after.total
      ? `*Approving lets these ${after.total} change(s) happen*, as \`dry-run=true\` lists them:`
      : '*Approving changes nothing more*: it is all as asked already.',
    ...shown,
    left ? `• …and ${left} more: \`${commandOf(run)} dry-run=true\` lists every one.` : '',
    after.stopped ? `:warning: Rehearsing them stopped short: ${after.stopped}` : '',
  ]
    .filter(Boolean)
    .join('\n');
}

export function approvalMessage(run: RunRecord): { text: string; blocks: KnownBlock[] } {
  const approval = run.approval;
  const expires = approval ? ` Expires ${slackDate(approval.expiresAt)}.` : '';
  const hash = approval?.planHash ?? '';
  const value = approvalButtonValue(run.id, hash);
  const afterApproval = afterApprovalText(run);
  return {
    text: `Approval needed: ${workflowOf(run.kind).approves} ${subject(run)}`,
    blocks: [
      {
        type: 'section',
        text: { type: 'mrkdwn', text: truncate(`:raised_hand: Approval needed\n${approvalSummary(run)}`) },
      },
      ...(afterApproval
        ? [{ type: 'section', text: { type: 'mrkdwn', text: truncate(afterApproval) } } satisfies KnownBlock]
        : []),
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: truncate(
              `Requested by <@${run.requester.userId}> · run \`${run.id}\` · plan \`${hash}\`.${expires} ${whoMayApprove(run.approval, run.requester.userId)}${approvalProgress(run)}`,
            ),
          },
        ],
      },
      {
        type: 'input',
        block_id: REASON_BLOCK,
        optional: true,
        label: { type: 'plain_text', text: 'Reason (optional, shown with a Reject)' },
        element: { type: 'plain_text_input', action_id: REASON_ACTION, max_length: 300 },
      },
      {
        type: 'actions',
        block_id: approvalBlockId(run.id, hash),
        elements: [
          {
            type: 'button',
            action_id: APPROVE_ACTION,
            style: 'primary',
            text: { type: 'plain_text', text: 'Approve' },
            value,
          },
          {
            type: 'button',
            action_id: REJECT_ACTION,
            style: 'danger',
            text: { type: 'plain_text', text: 'Reject' },
            value,
          },
        ],
      },
    ],
  };
}

/** Who decided, and when: "Approved by @a and @b …", "Rejected by @c …: reason". */
export function decisionText(run: RunRecord): string | null {
  const decision = run.approval?.decision;
  if (!decision) return null;
  if (!decision.approved) {
    const why = decision.reason ? `: “${decision.reason}”` : '';
    return `:no_entry: Rejected by <@${decision.by}> ${slackDate(decision.at)}${why}`;
  }
  const approvals = run.approval?.approvals.length ? run.approval.approvals : [decision];
  return `:white_check_mark: Approved by ${approvals.map((a) => `<@${a.by}> ${slackDate(a.at)}`).join(' and ')}`;
}

/** The prompt once decided or expired: same summary, no buttons, who and when. */
export function closedApprovalMessage(run: RunRecord): { text: string; blocks: KnownBlock[] } {
  const verdict =
    decisionText(run) ??
    (run.cancel
      ? `:octagonal_sign: Cancelled by <@${run.cancel.by}> ${slackDate(run.cancel.at)}: nobody needs to decide`
      : `:alarm_clock: Expired ${slackDate(run.approval?.expiresAt ?? run.updatedAt)}: nobody decided`);
  return {
    text: `${verdict.replace(/<[^>]*\|([^>]*)>/g, '$1')}: ${workflowOf(run.kind).approves} ${subject(run)}`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: truncate(approvalSummary(run)) } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: truncate(verdict) }] },
    ],
  };
}

/** A Slack link to Google's page on a case, or nothing. */
function docsLink(docs: string | undefined): string {
  return docs ? ` <${docs}|docs>` : '';
}

/**
 * A failure's reason and fix: each blocker preflight found, with its code, fix and doc link, when it
 * found several; else the one message and its fix.
 */
export function failureLines(outcome: Outcome | undefined): { reason: string; details: string[] } {
  const { message = '', hint, docs, blockers } = outcome ?? {};
  if (!blockers?.length) {
    return { reason: message, details: hint ? [`*What to do:* ${hint}${docsLink(docs)}`] : [] };
  }
  return {
    reason: message,
    details: [
      ...blockers.map(
        (b) =>
          `• \`${b.code}\` ${b.message}${b.hint ? `\n   *What to do:* ${b.hint}` : ''}${docsLink(b.docs)}`,
      ),
      ...(hint ? [`Then: ${hint}.`] : []),
    ],
  };
}

export function outcomeText(run: RunRecord): string {
  const outcome = run.outcome;
  const message = outcome?.message ?? '';
  switch (run.status) {
    case 'succeeded':
      return `:tada: Done. ${message}`;
    case 'failed':
      if (run.kind === 'enable-batch' && run.facts.members) {
        // A batch fails when some of its runs did: the others went on and the summary says so.
        return [`:warning: Batch finished: ${message}`, outcome?.hint ? `*What to do:* ${outcome.hint}` : '']
          .filter(Boolean)
          .join('\n');
      }
      return [
        `:x: Failed at *${stepTitle(run)}*: ${message}`,
        ...failureLines(outcome).details,
        `Run \`${run.id}\`${outcome?.code ? ` · ${outcome.code}` : ''}`,
      ]
        .filter(Boolean)
        .join('\n');
    case 'rejected':
      return `:no_entry: ${message}`;
    case 'expired':
      return `:alarm_clock: ${message}${outcome?.hint ? ` (${outcome.hint})` : ''}`;
    case 'cancelled':
      return `:octagonal_sign: ${message} Nothing more will happen; what it had done stays as the checklist shows, and no namespace was touched. The cluster is free for another run.`;
    default:
      return `${statusLines[run.status]}: ${message}`;
  }
}

function minutes(ms: number): string {
  return ms >= 60_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`;
}

const planeLabels: Record<Plane, string> = { controlPlane: 'Control plane', dataPlane: 'Data plane' };

export function describeConditions(conditions: MeshCondition[]): string {
  return conditions
    .map(
      (c) =>
        `\n• ${c.severity ?? 'INFO'} \`${c.code}\`: ${c.details}${c.documentationLink ? ` <${c.documentationLink}|docs>` : ''}`,
    )
    .join('');
}

function planeNote(plane: PlaneState): string {
  // The data plane waits for the control plane; Google reports that as a failed precondition.
  return plane.details.some((d) => d.code === 'MANAGED_CONTROL_PLANE_REQUIRED')
    ? ' — normal while the control plane is still coming'
    : '';
}

/** The thread reply an event of a run stands for (events that post or update whole messages have their own). */
export function runEventText(run: RunRecord, event: RunEvent): string {
  switch (event.type) {
    case 'clusterResolved': {
      const { cluster, projectNumber, meshRevision, fleet } = event;
      const kind = `${cluster.autopilot ? 'Autopilot' : 'Standard'}, ${cluster.releaseChannel} channel → ${meshRevision}`;
      const host =
        fleet && fleet.project !== run.cluster.project
          ? ` Its fleet is the fleet host ${fleet.project} (number ${fleet.number}).`
          : '';
      return `:mag: Cluster \`${run.cluster.name}\` is RUNNING (${kind}); project ${run.cluster.project} is number ${projectNumber}.${host}`;
    }
    case 'serviceEnabling':
      return `:electric_plug: Enabling ${event.services.map((s) => `\`${s}\``).join(', ')} on ${event.project} (one batchEnable; preflight checks again once it is done)…`;
    case 'registered':
      return event.reused
        ? `:link: Already in the fleet as \`${event.membership}\`: reusing it.`
        : `:link: Registered to the fleet as \`${event.membership}\`.`;
    case 'labelled':
      return event.already
        ? `:label: Cluster already labelled \`${event.label}\`.`
        : `:label: Cluster labelled \`${event.label}\` (other labels kept).`;
    case 'managementOn':
      return `:gear: Managed mesh turned on for \`${event.membership}\` (management: MANAGEMENT_AUTOMATIC).`;
    case 'managementOff':
      return `:gear: Managed mesh turned off for \`${event.membership}\` (management: MANAGEMENT_MANUAL); other memberships keep theirs.`;
    case 'unregistered':
      return `:wastebasket: Unregistered \`${event.membership}\` from the fleet.`;
    case 'meshIdRemoved':
      return `:label: Removed the \`${event.label}\` label from the cluster (other labels kept).`;
    case 'planeChanged':
      return `:satellite: ${planeLabels[event.plane]}: ${describePlane(event.state)}${planeNote(event.state)}${describeConditions(event.conditions)}`;
    case 'inClusterControlPlane':
      return inClusterText(run, event.found);
    case 'injectionPlanned': {
      const { plan } = event;
      const pods = plan.namespaces.reduce((sum, ns) => sum + ns.pods, 0);
      const what = plan.set
        ? `\`${plan.set.key}=${plan.set.value}\` on`
        : `remove ${plan.remove.map((k) => `\`${k}\``).join(' and ')} from`;
      return `:clipboard: Plan: ${what} ${plan.namespaces.length} namespace(s), ${pods} pod(s) — ${plan.reason}.`;
    }
    case 'meshConfigPlanned': {
      const { plan } = event;
      const where = `\`${plan.namespace}/${plan.configMap}\``;
      if (!plan.diff)
        return `:clipboard: Plan: ConfigMap ${where} already has what was asked; nothing to change.`;
      return plan.resourceVersion === null
        ? `:clipboard: Plan: ConfigMap ${where} does not exist yet; it will be created (the diff is in the approval prompt).`
        : `:clipboard: Plan: edit \`data.mesh\` of ConfigMap ${where} at resourceVersion ${plan.resourceVersion}, every other key kept (the diff is in the approval prompt).`;
    }
    case 'meshConfigWritten':
      return event.created
        ? `:memo: Created ConfigMap \`${event.plan.namespace}/${event.plan.configMap}\` with the new \`data.mesh\`.`
        : `:memo: Wrote \`data.mesh\` of ConfigMap \`${event.plan.namespace}/${event.plan.configMap}\` (conditioned on its resourceVersion; every other key kept).`;
    case 'approvalRenewed':
      return `:warning: The ConfigMap was changed by someone else after the prompt was shown, so what was approved is not what would be written. The prompt above now shows the diff against it as it is now: approve it again (or reject).`;
    case 'approvalReminder':
      return `:hourglass_flowing_sand: Still waiting for an approver; the request expires <!date^${Math.floor(event.expiresAt / 1000)}^{date_short_pretty} {time}|in ${minutes(event.remainingMs)}>.`;
    case 'namespacesLabelled':
      return event.plan.set
        ? `:syringe: Labelled ${plannedNamespaces(event.plan)} with \`${event.plan.set.key}=${event.plan.set.value}\` (removed ${event.plan.remove.map((k) => `\`${k}\``).join(', ')})${movedNote(event.plan)}.`
        : `:scissors: Removed ${event.plan.remove.map((k) => `\`${k}\``).join(' and ')} from ${plannedNamespaces(event.plan)}.`;
    case 'workloadsRestarted':
      return `:arrows_counterclockwise: Restarted ${event.count} workload(s) (rollout restart at ${event.restartedAt}).`;
    case 'podsVerified':
      return `:white_check_mark: All ${event.pods} pod(s) run ${event.withProxy ? 'with' : 'without'} \`istio-proxy\`.`;
    case 'retrying':
      return `:hourglass_flowing_sand: *${workflowOf(run.kind).titles[event.step] ?? event.step}* did not go through (attempt ${event.attempt} of ${event.attempts}): ${event.reason}. Trying again in ${minutes(event.retryInMs)}; after attempt ${event.attempts} the run fails.`;
    case 'finished':
      return outcomeText(run);
    case 'watchStarted':
      return `:eyes: <#${event.channel}> now watches \`${clusterKey(run.cluster)}\`: you will hear here when Google upgrades its mesh or its health changes. \`/mesh unwatch ${clusterKey(run.cluster)}\` stops it.`;
    case 'watchesStopped':
      return `:no_bell: ${event.channels.map((c) => `<#${c}>`).join(', ')} no longer ${event.channels.length === 1 ? 'watches' : 'watch'} \`${clusterKey(run.cluster)}\`: its mesh is no longer managed. \`/mesh watch ${clusterKey(run.cluster)}\` after enabling it again.`;
    case 'batchRunFailed':
      return `:x: \`${event.ref}\` (run \`${event.runId}\`) did not finish: ${event.message}`;
    case 'batchResolved':
    case 'batchStarted':
    case 'started':
    case 'progressed':
    case 'approvalRequested':
    case 'approvalProgressed':
    case 'approvalClosed':
    case 'closed':
      return rootMessage(run).text;
  }
}
