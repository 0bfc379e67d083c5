/**
 * `/mesh enable cluster` over several clusters or patterns: resolve the targets against the
 * projects' cluster lists, let the requester confirm the list, start one `enable-cluster` run per
 * cluster under this batch, wait until every run has its injection plan, ask once for approval of
 * all of them, hand the decision to the runs and follow them to the end. The runs say nothing in
 * Slack of their own: this run's root message carries a live table of them, and failures are told
 * in its thread. Steps read the world first, so each can run again after a crash.
 *
 * A dry run of a batch (`dry-run=true`) resolves the clusters the same way, then starts a dry run of
 * each (the single-cluster dry run, as `parent` runs) instead of real runs: nothing to confirm, no
 * approval, no change. It follows them to their end and finishes with one line per cluster.
 */
import { createHash } from 'node:crypto';
import { MeshopsError } from '../errors.js';
import { globMatches } from '../glob.js';
import type { Step, StepContext, StepResult } from './engine.js';
import { enableClusterWorkflow } from './enableCluster.js';
import type { ListedCluster } from './ports.js';
import type { WorkflowDefinition } from './registry.js';
import {
  clusterKey,
  isTerminal,
  type BatchFacts,
  type BatchMember,
  type BatchTally,
  type EnableBatchRun,
  type RehearsedMember,
  type RunRecord,
  type StepName,
} from './run.js';
import { minutes, need, poll } from './steps/common.js';
import { approvalRequested } from './steps/injection.js';

/** More clusters than this in one batch is a fleet to split by project or pattern. */
export const MAX_BATCH = 1000;
/** Slack's response_url, where the Confirm button is, is good for 30 minutes. */
const CONFIRM_TIMEOUT_MS = 30 * 60_000;
/** The step of an `enable-cluster` run that waits for the batch's decision. */
const CHILD_APPROVAL: StepName = 'approval';

function batchOf(ctx: { run: RunRecord }): EnableBatchRun {
  if (ctx.run.kind !== 'enable-batch')
    throw new MeshopsError('INTERNAL', `run ${ctx.run.id} is not an enable-batch run`);
  return ctx.run;
}

/** A target as typed: `P/L/NAME`, where L may be `-` (every location) and NAME may hold `*`. */
export function targetMatches(target: string, cluster: ListedCluster): boolean {
  const [project, location, name] = target.split('/') as [string, string, string];
  return (
    cluster.ref.project === project &&
    (location === '-' || cluster.ref.location === location) &&
    globMatches(name, cluster.ref.name)
  );
}

const resolve: Step = async (ctx) => {
  const run = batchOf(ctx);
  const { targets, labels } = run.options;
  const projects = [...new Set(targets.map((t) => t.split('/')[0]!))];
  const listed: ListedCluster[] = [];
  for (const project of projects) listed.push(...(await ctx.deps.gke.listClusters(project)));
  const labelled = (c: ListedCluster) =>
    Object.entries(labels).every(([key, value]) => c.resourceLabels[key] === value);
  const resolved = [
    ...new Set(
      listed
        .filter((c) => labelled(c) && targets.some((t) => targetMatches(t, c)))
        .map((c) => clusterKey(c.ref)),
    ),
  ];
  const unmatched = targets.filter((t) => !listed.some((c) => labelled(c) && targetMatches(t, c)));
  const filters = Object.keys(labels).length
    ? ` with ${Object.entries(labels)
        .map(([k, v]) => `\`${k}=${v}\``)
        .join(', ')}`
    : '';
  if (resolved.length === 0) {
    throw new MeshopsError(
      'NOT_FOUND',
      `no cluster matches ${targets.map((t) => `\`${t}\``).join(', ')}${filters}`,
      {
        hint: `\`gcloud container clusters list --project ${projects[0]}\` shows the clusters there; nothing was changed`,
      },
    );
  }
  if (resolved.length > MAX_BATCH) {
    throw new MeshopsError(
      'INVALID_ARGUMENT',
      `${resolved.length} clusters match; one batch takes at most ${MAX_BATCH}`,
      {
        hint: 'narrow the patterns (a location, a name prefix, a label:KEY=VALUE filter) or split by project; nothing was changed',
      },
    );
  }
  const facts: Partial<BatchFacts> = { resolved, unmatched };
  return { type: 'next', facts, detail: `${resolved.length} cluster(s)${filters}` };
};

/** More than one cluster: the requester confirms the list they see before anything starts. */
const confirm: Step = async (ctx) => {
  const run = batchOf(ctx);
  const resolved = need(run.facts.resolved, 'the resolved clusters');
  if (resolved.length === 1)
    return { type: 'next', skipped: true, detail: 'one cluster: nothing to confirm' };
  // A dry run starts only dry runs, which change nothing: the list is in the summary instead.
  if (run.dryRun) return { type: 'next', skipped: true, detail: 'a dry run: nothing to confirm' };
  if (run.facts.confirmed) {
    return { type: 'next', detail: `confirmed by <@${run.facts.confirmed.by}>` };
  }
  if (ctx.elapsedMs > CONFIRM_TIMEOUT_MS) {
    return {
      type: 'finish',
      status: 'expired',
      outcome: {
        message: `Nobody confirmed the ${resolved.length} clusters within ${minutes(CONFIRM_TIMEOUT_MS)}; nothing was started.`,
        hint: 'run the command again',
      },
    };
  }
  if (run.attempt.polls === 0) await ctx.deps.notifier.emit(run, { type: 'batchResolved' });
  // Woken by the click; until then, looks again now and then for the expiry.
  return { type: 'wait', detail: `waiting for <@${run.requester.userId}> to confirm`, delayMs: 60_000 };
};

const start: Step = async (ctx) => {
  const run = batchOf(ctx);
  const resolved = need(run.facts.resolved, 'the resolved clusters');
  const refs = resolved.map((key) => {
    const [project, location, name] = key.split('/') as [string, string, string];
    return { project, location, name };
  });
  const members = await ctx.deps.batches.start(run, refs);
  const busy = members.filter((m) => m.skipped).length;
  await ctx.deps.notifier.emit({ ...run, facts: { ...run.facts, members } }, { type: 'batchStarted' });
  return {
    type: 'next',
    facts: { members },
    detail: `${members.length - busy} ${run.dryRun ? 'dry run(s)' : 'run(s)'} started${busy ? `, ${busy} cluster(s) busy with another run` : ''}`,
  };
};

/** A finished dry run of a batch's cluster, in the line its batch's summary shows. */
function rehearsedMember(ref: string, child: RunRecord): RehearsedMember {
  const plan = child.facts.plan?.namespaces ?? [];
  const member: RehearsedMember = {
    ref,
    runId: child.id,
    status: child.status,
    changes: child.dryRun?.calls.length ?? 0,
    pods: plan.reduce((sum, ns) => sum + ns.pods, 0),
    restarts: child.options.restart
      ? plan.filter((ns) => !ns.settled).reduce((sum, ns) => sum + ns.pods, 0)
      : 0,
  };
  if (child.status === 'succeeded') return member;
  const outcome = child.outcome;
  const codes = outcome?.blockers?.length
    ? outcome.blockers.map((b) => b.code)
    : outcome?.code
      ? [outcome.code]
      : [];
  return {
    ...member,
    ...(codes.length ? { codes } : {}),
    step: child.step,
    message: (outcome?.message ?? child.status).slice(0, 200),
  };
}

function tallyOf(
  members: BatchMember[],
  runs: Array<RunRecord | null>,
  titles: Record<string, string>,
  dryRun: boolean,
): BatchTally {
  const tally: BatchTally = {
    byStep: {},
    failed: [],
    succeeded: 0,
    planned: [],
    ...(dryRun ? { rehearsed: [] } : {}),
  };
  const started = members.filter((m) => m.runId);
  runs.forEach((child, i) => {
    const member = started[i]!;
    if (!child) return;
    const where = isTerminal(child) ? child.status : (titles[child.step] ?? child.step);
    tally.byStep[where] = (tally.byStep[where] ?? 0) + 1;
    if (child.status === 'succeeded') tally.succeeded += 1;
    else if (isTerminal(child))
      tally.failed.push({
        ref: member.ref,
        runId: child.id,
        message: child.outcome?.message ?? child.status,
      });
    if (tally.rehearsed && isTerminal(child)) tally.rehearsed.push(rehearsedMember(member.ref, child));
    const plan = child.facts.plan;
    if (child.status === 'awaiting-approval' && plan) {
      tally.planned.push({
        ref: member.ref,
        runId: child.id,
        namespaces: plan.namespaces.map((ns) => ns.name),
        pods: plan.namespaces.reduce((sum, ns) => sum + ns.pods, 0),
        restarts: plan.namespaces.filter((ns) => !ns.settled).reduce((sum, ns) => sum + ns.pods, 0),
      });
    }
  });
  return tally;
}

/**
 * The batch's runs read once and tallied; a failure not told before is told now, and the root
 * message shows a tally that changed. `changed`: the tally differs from the one saved.
 */
async function follow(
  ctx: StepContext,
  run: EnableBatchRun,
): Promise<{ runs: Array<RunRecord | null>; tally: BatchTally; changed: boolean }> {
  const members = need(run.facts.members, 'the batch members');
  const ids = members.flatMap((m) => (m.runId ? [m.runId] : []));
  const runs = await ctx.deps.batches.runs(ids);
  const tally = tallyOf(members, runs, enableClusterWorkflow.titles, Boolean(run.dryRun));
  // A dry run's blocked clusters are told in its summary, one line each, not a reply each.
  const told = new Set((run.dryRun ? tally.failed : (run.facts.tally?.failed ?? [])).map((f) => f.runId));
  for (const failed of tally.failed.filter((f) => !told.has(f.runId))) {
    await ctx.deps.notifier.emit(run, { type: 'batchRunFailed', ...failed });
  }
  const changed = JSON.stringify(tally) !== JSON.stringify(run.facts.tally);
  if (changed)
    await ctx.deps.notifier.emit({ ...run, facts: { ...run.facts, tally } }, { type: 'progressed' });
  return { runs, tally, changed };
}

/** Until every run waits for the decision, has passed the approval (nothing to inject) or has ended. */
const plans: Step = async (ctx) => {
  const run = batchOf(ctx);
  const { runs, tally } = await follow(ctx, run);
  const order = enableClusterWorkflow.order;
  // A dry run's plan is made when the dry run has ended: it asks for no approval on the way.
  const pending = runs.filter(
    (child) =>
      child &&
      !isTerminal(child) &&
      (run.dryRun ||
        (child.status !== 'awaiting-approval' && order.indexOf(child.step) <= order.indexOf(CHILD_APPROVAL))),
  ).length;
  if (pending > 0)
    return { ...poll(ctx, `${runs.length - pending} of ${runs.length} run(s) planned`), facts: { tally } };
  if (run.dryRun) return { type: 'next', facts: { tally }, detail: `${runs.length} plan(s) made` };
  return { type: 'next', facts: { tally }, detail: `${tally.planned.length} plan(s) to approve` };
};

/** A short, stable hash of the runs and plans the prompt shows. */
function batchPlanHash(tally: BatchTally): string {
  const shown = tally.planned.map((p) => `${p.runId}:${p.namespaces.join(',')}:${p.restarts}`).join('|');
  return createHash('sha256').update(shown).digest('hex').slice(0, 12);
}

/** One prompt for every plan of the batch; the most approvers any of its clusters needs. */
const approval: Step = async (ctx) => {
  const run = batchOf(ctx);
  const { notifier, policy } = ctx.deps;
  const tally = need(run.facts.tally, 'the batch tally');
  if (run.dryRun) return { type: 'next', skipped: true, detail: 'a dry run asks nobody' };
  if (tally.planned.length === 0) return { type: 'next', skipped: true, detail: 'nothing to inject' };
  const current = run.approval;
  if (!current) {
    const required = Math.max(...tally.planned.map((p) => policy.approvalsNeeded(p.ref.split('/')[0]!)));
    const requested = approvalRequested(ctx, batchPlanHash(tally), required);
    await notifier.emit({ ...run, approval: requested }, { type: 'approvalRequested' });
    return { type: 'approval', approval: requested, wakeAt: requested.remindAt };
  }
  if (current.decision) {
    await notifier.emit(run, { type: 'approvalClosed' });
    return {
      type: 'next',
      detail: current.decision.approved
        ? `approved by ${current.approvals.map((a) => `<@${a.by}>`).join(' and ')}`
        : `rejected by <@${current.decision.by}>`,
    };
  }
  if (ctx.now >= current.expiresAt) {
    await notifier.emit(run, { type: 'approvalClosed' });
    return { type: 'next', detail: 'expired: the runs expire with it' };
  }
  return { type: 'approval', approval: current, wakeAt: current.expiresAt };
};

/** The decision (or its absence, once expired) handed to every run that waits for it. */
const release: Step = async (ctx) => {
  const run = batchOf(ctx);
  const tally = need(run.facts.tally, 'the batch tally');
  const decision = run.approval?.decision;
  if (!decision || tally.planned.length === 0)
    return { type: 'next', skipped: true, detail: 'no decision to hand on' };
  const decisions = decision.approved ? (run.approval?.approvals ?? [decision]) : [decision];
  const took = await ctx.deps.batches.decide(
    tally.planned.map((p) => p.runId),
    decisions,
  );
  return { type: 'next', facts: { released: true }, detail: `handed to ${took} run(s)` };
};

/** Until every run has ended; then the batch's summary. */
const runsDone: Step = async (ctx) => {
  const run = batchOf(ctx);
  const { runs, tally, changed } = await follow(ctx, run);
  const open = runs.filter((child) => child && !isTerminal(child)).length;
  if (open > 0)
    return { ...poll(ctx, `${runs.length - open} of ${runs.length} run(s) ended`), facts: { tally } };
  // The last tally is saved (and shown) before the summary, which carries no facts.
  if (changed) return { type: 'wait', facts: { tally }, delayMs: 0 };
  const members = need(run.facts.members, 'the batch members');
  if (run.dryRun) return dryRunSummary(members, tally);
  const skipped = members.filter((m) => m.skipped).length;
  const parts = [`${tally.succeeded} of ${members.length} cluster(s) on Cloud Service Mesh`];
  if (tally.failed.length) parts.push(`${tally.failed.length} did not finish`);
  if (skipped) parts.push(`${skipped} busy with another run`);
  const rejected = run.approval?.decision && !run.approval.decision.approved;
  return {
    type: 'finish',
    status: tally.failed.length || skipped || rejected ? 'failed' : 'succeeded',
    outcome: {
      message: `${parts.join('; ')}.`,
      ...(tally.failed.length
        ? {
            hint: `\`/mesh status ${run.id}\` lists every cluster; running the command again for the failed ones is safe`,
          }
        : {}),
    },
  };
};

/** A batch's dry run ends failed when a real batch would stop somewhere: the summary names where. */
function dryRunSummary(members: BatchMember[], tally: BatchTally): StepResult {
  const rehearsed = tally.rehearsed ?? [];
  const proceed = rehearsed.filter((m) => m.status === 'succeeded').length;
  const blocked = rehearsed.length - proceed;
  const codes = [...new Set(rehearsed.flatMap((m) => m.codes ?? []))];
  return {
    type: 'finish',
    status: blocked ? 'failed' : 'succeeded',
    outcome: {
      message: `Dry run: nothing was changed. Of ${members.length} cluster(s), ${proceed} would proceed and ${blocked} would be blocked${codes.length ? ` (${codes.join(', ')})` : ''}.`,
      ...(blocked
        ? { hint: 'fix the blockers each blocked cluster names, then dry-run the batch again or do it' }
        : {}),
    },
  };
}

const steps: Record<StepName, Step> = {
  resolve,
  confirm,
  start,
  plans,
  approval,
  release,
  runs: runsDone,
};

export const enableBatchWorkflow: WorkflowDefinition = {
  kind: 'enable-batch',
  title: 'Enable Cloud Service Mesh on',
  approves: 'sidecar injection on',
  order: Object.keys(steps),
  steps,
  titles: {
    resolve: 'Resolve the clusters',
    confirm: 'Confirm the list',
    start: 'Start one run per cluster',
    plans: 'Each run: register, turn on the managed mesh, plan injection',
    approval: 'Approval (one for the batch)',
    release: 'Hand the decision to the runs',
    runs: 'Each run: label namespaces, restart, verify',
  },
  // Once the decision is handed on, runs may be labelling namespaces: the batch goes to its end.
  pointOfNoReturn: 'release',
  rehearsesMembers: true,
};
