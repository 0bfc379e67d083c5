/**
 * Every change to a run record, as pure functions in one place: a step's result applied, the
 * thread started, an approver's decision, a cancel. The runner, the click handler and the cancel
 * command call these inside a compare-and-set; none of them edits a record itself.
 */
import { MeshopsError } from '../errors.js';
import type { Blocker, Cancellation, Decision, Outcome, RunRecord, StepName } from './run.js';
import { isTerminal } from './run.js';
import type { ApprovalState, InjectionFacts } from './run.js';

export type StepResult =
  | { type: 'next'; facts?: Partial<RunRecord['facts']>; detail?: string; skipped?: boolean }
  | { type: 'wait'; facts?: Partial<RunRecord['facts']>; detail?: string; delayMs: number }
  | { type: 'approval'; approval: ApprovalState; wakeAt: number }
  /**
   * Back to an earlier step (`step`), its approval dropped: what was approved is no longer what would
   * be done (the world changed under the run), so it is planned and asked for again.
   */
  | { type: 'again'; step: StepName; facts?: Partial<RunRecord['facts']>; detail: string }
  | { type: 'finish'; status: 'succeeded' | 'rejected' | 'expired' | 'failed'; outcome: Outcome };

/** What the runner does after a step: run the next one now, park until `wakeAt`, or stop. */
export type Continuation = { type: 'continue' } | { type: 'park'; wakeAt: number } | { type: 'stop' };

export interface Advanced {
  run: RunRecord;
  then: Continuation;
  /** The step that ran and the one now current differ: the checklist changed. */
  moved: boolean;
}

/**
 * What a finished run keeps of its facts: what it found and did, not what it needed to act (the
 * cluster's CA and endpoint and how it is reached, the label fingerprint, the node pools preflight looked at, the
 * operation it waited on).
 */
export function finishedFacts<F extends RunRecord['facts']>(facts: F): F {
  const kept: F = { ...facts };
  delete kept.operation;
  delete kept.restartedAt;
  if (kept.cluster) {
    kept.cluster = {
      ...kept.cluster,
      caCertificate: '',
      endpoint: '',
      labelFingerprint: '',
      resourceLabels: {},
      nodePools: [],
    };
    delete kept.cluster.privateEndpointOnly;
  }
  return kept;
}

function blockerOf(error: MeshopsError): Blocker {
  return {
    code: error.code,
    message: error.message,
    ...(error.hint ? { hint: error.hint } : {}),
    ...(error.docs ? { docs: error.docs } : {}),
  };
}

export function failure(error: MeshopsError): StepResult {
  return {
    type: 'finish',
    status: 'failed',
    outcome: {
      ...blockerOf(error),
      ...(error.blockers.length > 0 ? { blockers: error.blockers.map(blockerOf) } : {}),
    },
  };
}

/** A step's result applied to the record; `order` is the workflow's steps, to find the next one. */
export function stepApplied(
  run: RunRecord,
  result: StepResult,
  now: number,
  order: readonly StepName[],
): Advanced {
  const next: RunRecord = { ...run, updatedAt: now, steps: { ...run.steps }, facts: { ...run.facts } };
  switch (result.type) {
    case 'next': {
      Object.assign(next.facts, result.facts, { operation: undefined } satisfies Partial<InjectionFacts>);
      next.steps[run.step] = {
        status: result.skipped ? 'skipped' : 'done',
        at: now,
        ...(result.detail ? { detail: result.detail } : {}),
      };
      const following = order[order.indexOf(run.step) + 1];
      if (!following) throw new Error(`step ${run.step} has no successor; it must finish the run`);
      next.step = following;
      next.steps[following] = { status: 'running', at: now };
      next.status = 'running';
      next.attempt = { since: now, polls: 0 };
      return { run: next, then: { type: 'continue' }, moved: true };
    }
    case 'wait': {
      Object.assign(next.facts, result.facts);
      const current = next.steps[run.step];
      next.steps[run.step] = {
        status: 'running',
        at: current?.at ?? now,
        ...(result.detail ? { detail: result.detail } : current?.detail ? { detail: current.detail } : {}),
      };
      next.status = 'waiting';
      next.attempt = { since: run.attempt.since, polls: run.attempt.polls + 1 };
      return { run: next, then: { type: 'park', wakeAt: now + result.delayMs }, moved: false };
    }
    case 'approval': {
      next.approval = result.approval;
      next.status = 'awaiting-approval';
      next.steps[run.step] = {
        status: 'running',
        at: next.steps[run.step]?.at ?? now,
        detail: 'waiting for approval',
      };
      return { run: next, then: { type: 'park', wakeAt: result.wakeAt }, moved: false };
    }
    case 'again': {
      Object.assign(next.facts, result.facts);
      const from = order.indexOf(result.step);
      if (from < 0 || from >= order.indexOf(run.step))
        throw new Error(`step ${run.step} can only go back to an earlier step, not ${result.step}`);
      for (const step of order.slice(from)) delete next.steps[step];
      next.steps[result.step] = { status: 'running', at: now, detail: result.detail };
      next.step = result.step;
      next.status = 'running';
      next.attempt = { since: now, polls: 0 };
      delete next.approval;
      return { run: next, then: { type: 'continue' }, moved: true };
    }
    case 'finish': {
      next.status = result.status;
      next.outcome = result.outcome;
      next.facts = finishedFacts(next.facts);
      next.steps[run.step] = {
        status: result.status === 'succeeded' ? 'done' : 'failed',
        at: now,
        detail: result.outcome.message,
      };
      return { run: next, then: { type: 'stop' }, moved: true };
    }
  }
}

/** A finished run's thread has said everything: from now on it is compacted, never announced again. Null if so already. */
export function threadClosing(run: RunRecord, now: number): RunRecord | null {
  if (!isTerminal(run) || run.slack.closing) return null;
  return { ...run, updatedAt: now, slack: { ...run.slack, closing: true } };
}

/** A worker picked the queued run up: its thread exists from now on. Null if it was picked up before. */
export function threadStarted(run: RunRecord, now: number): RunRecord | null {
  if (run.status !== 'queued') return null;
  return {
    ...run,
    status: 'running',
    updatedAt: now,
    steps: { ...run.steps, [run.step]: run.steps[run.step] ?? { status: 'running', at: now } },
  };
}

export type DecisionResult =
  | { run: RunRecord; final: boolean }
  | { refused: 'not-waiting' | 'expired' | 'decided' | 'approved-already' };

/**
 * A decision on a waiting prompt: a rejection ends it; an approval counts once per approver, and
 * ends it when it is the last one needed. Who may decide at all is the click handler's business.
 */
export function decisionRecorded(run: RunRecord, decision: Decision): DecisionResult {
  const approval = run.approval;
  if (approval?.decision) return { refused: 'decided' };
  if (run.status === 'expired' || (approval && decision.at >= approval.expiresAt))
    return { refused: 'expired' };
  if (run.status !== 'awaiting-approval' || !approval) return { refused: 'not-waiting' };
  if (!decision.approved) {
    return { run: { ...run, updatedAt: decision.at, approval: { ...approval, decision } }, final: true };
  }
  if (approval.approvals.some((a) => a.by === decision.by)) return { refused: 'approved-already' };
  const approvals = [...approval.approvals, decision];
  const final = approvals.length >= approval.required;
  return {
    run: {
      ...run,
      updatedAt: decision.at,
      approval: { ...approval, approvals, ...(final ? { decision } : {}) },
    },
    final,
  };
}

export function isDecisionRefusal(
  result: DecisionResult,
): result is Extract<DecisionResult, { refused: string }> {
  return 'refused' in result;
}

/**
 * A cancel, if the run has not reached its point of no return (the first step that changes what
 * users run: labelling namespaces; a dry run has none). Else a refusal that says why.
 */
export function cancelled(
  run: RunRecord,
  cancellation: Cancellation,
  order: readonly StepName[],
  pointOfNoReturn: StepName,
): RunRecord | { refused: string } {
  if (isTerminal(run)) return { refused: `run \`${run.id}\` has already ended (${run.status})` };
  // A dry run changes nothing, so it has no point of no return.
  if (!run.dryRun && order.indexOf(run.step) >= order.indexOf(pointOfNoReturn)) {
    return {
      refused: `run \`${run.id}\` is past its point of no return: it has started changing namespaces, and stopping now would leave them half done`,
    };
  }
  return {
    ...run,
    status: 'cancelled',
    updatedAt: cancellation.at,
    cancel: cancellation,
    facts: finishedFacts(run.facts),
    steps: { ...run.steps, [run.step]: { status: 'skipped', at: cancellation.at, detail: 'cancelled' } },
    outcome: {
      message: run.dryRun
        ? `Dry run cancelled by <@${cancellation.by}>.`
        : `Cancelled by <@${cancellation.by}> before its point of no return.`,
    },
  };
}

export function isRefusal(value: RunRecord | { refused: string }): value is { refused: string } {
  return 'refused' in value;
}

/** The requester confirmed a batch's list: its runs may start. Null if it is not waiting for that. */
export function batchConfirmed(run: RunRecord, by: string, at: number): RunRecord | null {
  if (run.kind !== 'enable-batch' || run.step !== 'confirm' || isTerminal(run) || run.facts.confirmed)
    return null;
  return { ...run, updatedAt: at, facts: { ...run.facts, confirmed: { by, at } } };
}
