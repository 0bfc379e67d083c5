import { workflowOf } from '../../workflows/registry.js';
import { clusterKey, isTerminal, type BatchMember } from '../../workflows/run.js';
import type { HandlerDeps } from '../deps.js';
import { cancelled, isRefusal } from '../../workflows/transitions.js';
import { invalid, runIdPattern, show } from '../grammar.js';
import { ephemeral } from '../reply.js';
import { defineVerb } from '../verb.js';

/**
 * `/mesh cancel RUN_ID`: the requester or an approver stops a run before its point of no return.
 * The record says so first (compare-and-set, so a step that saves in between stops instead); then
 * the cluster is free, the prompt loses its buttons and the thread says who cancelled.
 */
export const cancelVerb = defineVerb<{ runId: string }>({
  name: 'cancel',
  usage: 'cancel RUN_ID',
  summary:
    'stop a run, or a batch and its runs, before its point of no return (its requester or an approver)',
  example: 'cancel rmx4jskw103dba6',
  parse([runId, ...rest]) {
    if (!runId) return invalid('which run? `/mesh cancel RUN_ID` (the id is in the run’s thread)');
    if (!runIdPattern.test(runId)) return invalid(`${show(runId)} is not a run id`);
    if (rest.length) return invalid(`\`cancel\` takes one run id; ${show(rest.join(' '))} is extra`);
    return { runId };
  },
  async handle({ runId }, request, deps) {
    const run = await deps.runs.get(runId);
    if (!run) return ephemeral(`Run \`${runId}\` is not known to meshops. Nothing was cancelled.`);
    const user = request.userId;
    const audit = (action: 'cancelled' | 'cancel-refused', reason?: string) =>
      deps.audit.append(clusterKey(run.cluster), {
        at: deps.clock.now(),
        action,
        user,
        runId,
        ...(reason ? { reason } : {}),
      });
    if (user !== run.requester.userId && !(await deps.directory.includes(deps.approvals.approvers, user))) {
      deps.log.info({ runId, user, audit: 'cancel' }, 'cancel refused: neither requester nor approver');
      await audit('cancel-refused', 'neither the requester nor an approver');
      return ephemeral(
        `Only <@${run.requester.userId}>, who asked for run \`${runId}\`, or an approver may cancel it. Nothing was cancelled.`,
      );
    }
    const { order, pointOfNoReturn } = workflowOf(run.kind);
    // Set by the attempt that decides (update() may try again after a conflict).
    const verdict: { refused: string | null } = { refused: null };
    const after = await deps.runs.update(runId, (current) => {
      const next = cancelled(current, { by: user, at: deps.clock.now() }, order, pointOfNoReturn);
      verdict.refused = isRefusal(next) ? next.refused : null;
      return isRefusal(next) ? null : next;
    });
    const { refused } = verdict;
    if (refused !== null) {
      deps.log.info({ runId, user, audit: 'cancel', refused }, 'cancel refused');
      await audit('cancel-refused', refused);
      return ephemeral(`:no_entry: Not cancelled: ${refused}. Follow its thread to the end.`);
    }
    deps.log.info({ runId, user, audit: 'cancel' }, 'run cancelled');
    await audit('cancelled');
    await deps.locks.unlock(after);
    if (after.approval) await deps.notifier.emit(after, { type: 'approvalClosed' });
    await deps.notifier.emit(after, { type: 'finished' });
    // A parked job wakes, finds the run ended and stops; one running a step stops at its next save.
    await deps.queue.wake(runId);
    if (after.kind === 'enable-batch') {
      const { stopped, ran } = await cancelBatchRuns(after.facts.members ?? [], user, deps);
      return ephemeral(
        `:octagonal_sign: Cancelled batch \`${runId}\`: ${stopped} of its runs stopped${ran ? `; ${ran} had passed their point of no return and go on to their end` : ''}. Its thread says so.`,
      );
    }
    return ephemeral(
      `:octagonal_sign: Cancelled run \`${runId}\`; its thread says so, and the cluster is free.`,
    );
  },
});

/** A cancelled batch's runs: each stopped unless it has started changing namespaces (then it finishes). */
async function cancelBatchRuns(
  members: BatchMember[],
  user: string,
  deps: HandlerDeps,
): Promise<{ stopped: number; ran: number }> {
  const { order, pointOfNoReturn } = workflowOf('enable-cluster');
  let stopped = 0;
  let ran = 0;
  for (const { runId } of members) {
    if (!runId) continue;
    let refused = false;
    const after = await deps.runs.update(runId, (current) => {
      const next = cancelled(current, { by: user, at: deps.clock.now() }, order, pointOfNoReturn);
      refused = isRefusal(next);
      return isRefusal(next) ? null : next;
    });
    if (refused) {
      if (!isTerminal(after)) ran += 1;
      continue;
    }
    stopped += 1;
    await deps.locks.unlock(after);
    await deps.queue.wake(runId);
  }
  return { stopped, ran };
}
