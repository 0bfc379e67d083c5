/**
 * A dry run's step results, in one place (the engine calls this for every step of a dry run): the
 * calls the decorator recorded are kept in the record; an operation the decorator pretended to start
 * is done, so the step is called again at once; whatever the step would wait for in the world (a
 * plane to be ACTIVE, pods with istio-proxy, an approval) is written down and passed over, since
 * nothing was turned on to wait for; a dry run that gets to its end says that nothing was changed.
 */
import type { WorkflowDefinition } from './registry.js';
import type { PlannedCall } from './ports.js';
import type { DryRunPlan, RunRecord } from './run.js';
import { stepApplied, type Advanced, type StepResult } from './transitions.js';

/** The step's result as a dry run takes it, and what it adds to the plan. */
function rehearsed(run: RunRecord, result: StepResult): { result: StepResult; plan: Partial<DryRunPlan> } {
  switch (result.type) {
    case 'wait': {
      if (result.facts?.operation) return { result: { ...result, delayMs: 0 }, plan: {} };
      const detail = result.detail ?? '';
      return {
        result: {
          type: 'next',
          ...(result.facts ? { facts: result.facts } : {}),
          detail: `would wait${detail ? ` (now: ${detail})` : ''}`,
        },
        plan: { waits: [{ step: run.step, detail }] },
      };
    }
    case 'approval': {
      const { required, approvers } = result.approval;
      return {
        result: { type: 'next', detail: 'would ask for approval' },
        plan: { approval: { step: run.step, required, approvers } },
      };
    }
    case 'finish':
    case 'next':
    case 'again':
      return { result, plan: {} };
  }
}

/** The outcome code of dryRunStopsHere: no blocker, the plan just cannot go on. */
const STOPPED = 'DRY_RUN_STOPPED';

/**
 * A step of a dry run that cannot be planned, and no real run would be stopped by it: what it reads
 * comes to exist only through a change the dry run planned and did not make. The dry run ends there,
 * succeeded, its plan saying where and why.
 */
export function dryRunStopsHere(reason: string): StepResult {
  return { type: 'finish', status: 'succeeded', outcome: { code: STOPPED, message: reason } };
}

export function dryRunSummary(plan: DryRunPlan): string {
  const waits = plan.waits.length + (plan.approval ? 1 : 0);
  const counted = `${plan.stopped ? 'at least ' : ''}${plan.calls.length} change(s)${waits ? ` and wait ${waits} time(s)` : ''}`;
  const stopped = plan.stopped ? ` It could plan no further: ${plan.stopped.reason}.` : '';
  return `Dry run: nothing was changed. A real run would make ${counted}.${stopped}`;
}

/** A dry run's step result applied to its record (see the module comment). */
export function dryRunApplied(
  run: RunRecord,
  result: StepResult,
  calls: readonly PlannedCall[],
  now: number,
  order: WorkflowDefinition['order'],
): Advanced {
  const earlier = run.dryRun ?? { calls: [], waits: [] };
  const { result: taken, plan: added } = rehearsed(run, result);
  const stopped =
    taken.type === 'finish' && taken.outcome.code === STOPPED
      ? { stopped: { step: run.step, reason: taken.outcome.message } }
      : {};
  const plan: DryRunPlan = {
    ...earlier,
    calls: [...earlier.calls, ...calls.map((call) => ({ ...call, step: run.step }))],
    waits: [...earlier.waits, ...(added.waits ?? [])],
    ...(added.approval ? { approval: added.approval } : {}),
    ...stopped,
  };
  const final: StepResult =
    taken.type === 'finish' && taken.status === 'succeeded'
      ? { ...taken, outcome: { message: dryRunSummary(plan) } }
      : taken;
  const advanced = stepApplied(run, final, now, order);
  // A step the dry run could not plan is not shown as done.
  const steps = plan.stopped
    ? {
        ...advanced.run.steps,
        [run.step]: { status: 'skipped' as const, at: now, detail: 'not planned (see the plan)' },
      }
    : advanced.run.steps;
  return { ...advanced, run: { ...advanced.run, steps, dryRun: plan } };
}
