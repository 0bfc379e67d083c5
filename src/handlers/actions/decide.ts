import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { Decision, RunRecord } from '../../workflows/run.js';
import { decisionRecorded } from '../../workflows/transitions.js';
import type { HandlerDeps } from '../deps.js';

type ButtonArgs = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs;

/** Why `user` may not decide on `run`, or null if they may. Checked on every click. */
export function refusal(run: RunRecord, user: string, approvals: HandlerDeps['approvals']): string | null {
  if (!approvals.approvers.includes(user)) {
    const who = approvals.approvers.length
      ? approvals.approvers.map((u) => `<@${u}>`).join(', ')
      : 'nobody (MESHOPS_APPROVERS is empty)';
    return `You are not an approver for meshops, so your click changed nothing. Approvers: ${who}.`;
  }
  if (user === run.requester.userId && !approvals.allowSelfApproval) {
    return 'You requested this run, so another approver has to decide. Your click changed nothing.';
  }
  return null;
}

/**
 * Approve / Reject: authorize the clicker, record the decision first-wins with compare-and-set,
 * and wake the parked run, whose approval step replaces the buttons with who decided (the prompt
 * is closed in that one place). Whoever clicked in vain is told why, only them.
 */
export function decideAction(approved: boolean, deps: HandlerDeps) {
  return async ({ ack, body, action }: ButtonArgs): Promise<void> => {
    await ack();
    const user = body.user.id;
    const channel = body.channel?.id ?? '';
    const threadTs: unknown = body.message?.thread_ts;
    const tell = (text: string) =>
      deps.outbox.send({
        key: `click/${body.trigger_id}`,
        op: 'ephemeral',
        channel,
        user,
        ...(typeof threadTs === 'string' ? { threadTs } : {}),
        content: { text },
        keepSeconds: 3600,
      });
    const runId = action.value ?? '';
    const run = await deps.runs.get(runId);
    if (!run) return tell(`Run \`${runId}\` is not known to meshops.`);
    const refused = refusal(run, user, deps.approvals);
    if (refused) {
      deps.log.info({ runId, user, approved }, 'approval click refused');
      return tell(refused);
    }

    const decision: Decision = { approved, by: user, at: deps.clock.now() };
    let recorded = false;
    const after = await deps.runs.update(runId, (current) => {
      // Runs once per compare-and-set attempt: only the attempt that is saved may say it recorded.
      const next = decisionRecorded(current, decision);
      recorded = next !== null;
      return next;
    });
    if (!recorded) {
      const earlier = after.approval?.decision;
      return tell(
        earlier
          ? `Already ${earlier.approved ? 'approved' : 'rejected'} by <@${earlier.by}> at ${new Date(earlier.at).toISOString()}.`
          : `Run \`${runId}\` is not waiting for approval (it is ${after.status}).`,
      );
    }
    deps.log.info({ runId, user, approved, audit: 'approval' }, approved ? 'run approved' : 'run rejected');
    await deps.queue.wake(runId);
  };
}
