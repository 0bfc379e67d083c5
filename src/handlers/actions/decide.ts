import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { runMessageKey } from '../../slack/notifier.js';
import {
  approvalBlockId,
  mention,
  parseApprovalButtonValue,
  REASON_ACTION,
  REASON_BLOCK,
} from '../../slack/render.js';
import type { AuditEntry } from '../../store/audit.js';
import { clusterKey, type Decision, type RunRecord } from '../../workflows/run.js';
import { decisionRecorded, isDecisionRefusal } from '../../workflows/transitions.js';
import type { HandlerDeps } from '../deps.js';

type ButtonArgs = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs;

const unchanged = 'Your click changed nothing.';

/**
 * Why `user` may not decide on `run`, or null if they may. Checked on every click against the
 * approvers configured now (not the list the prompt showed): a right taken away counts at once.
 */
export async function refusal(run: RunRecord, user: string, deps: HandlerDeps): Promise<string | null> {
  const approvers = deps.approvals.approvers;
  if (!(await deps.directory.includes(approvers, user))) {
    const who = approvers.length ? approvers.map(mention).join(', ') : 'nobody (MESHOPS_APPROVERS is empty)';
    return `You are not an approver for meshops. ${unchanged} Approvers: ${who}.`;
  }
  if (user === run.requester.userId && !deps.approvals.allowSelfApproval) {
    return `You requested this run, so another approver has to decide. ${unchanged}`;
  }
  return null;
}

/** "Already approved by <@A> (and <@B>) at …", "Already rejected by <@C> at …: reason". */
function alreadyDecided(run: RunRecord): string {
  const decision = run.approval?.decision;
  if (!decision) return 'Already decided';
  const at = new Date(decision.at).toISOString();
  if (!decision.approved) {
    return `Already rejected by <@${decision.by}> at ${at}${decision.reason ? ` (“${decision.reason}”)` : ''}`;
  }
  const by = (run.approval?.approvals.length ? run.approval.approvals : [decision]).map((a) => `<@${a.by}>`);
  return `Already approved by ${by.join(' and ')} at ${at}`;
}

/** How long a click may wait for the outbox to record the prompt's ts (Slack showed it: the post is in flight). */
const PROMPT_TS_WAIT_MS = 3000;

/**
 * The ts of the run's prompt, as the outbox recorded it. Slack may deliver a click on a prompt
 * before the post's answer reached the outbox (a click within milliseconds of the post): then the
 * record is read again for a moment rather than the click refused as not from the prompt.
 */
async function promptTsFor(runId: string, deps: HandlerDeps): Promise<string | null> {
  const key = runMessageKey(runId, 'approval');
  const deadline = Date.now() + PROMPT_TS_WAIT_MS;
  for (;;) {
    const ts = await deps.outbox.sentTs(key);
    if (ts !== null || Date.now() >= deadline) return ts;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The reason typed into the prompt's field, if any (Slack sends the message's input state with the click). */
function typedReason(body: BlockAction): string | undefined {
  const values = (body.state?.values ?? {}) as Record<string, Record<string, { value?: string | null }>>;
  const reason = values[REASON_BLOCK]?.[REASON_ACTION]?.value?.trim();
  return reason ? reason.slice(0, 300) : undefined;
}

/**
 * Approve / Reject. A click counts only when it comes from the run's current prompt (the message
 * ts the outbox recorded and the block id naming the plan's hash) and from someone who may
 * approve; then the decision is recorded with compare-and-set, an approval once per approver,
 * and the parked run wakes (its approval step closes the prompt, in that one place). Every
 * decision and every refused click is appended to the cluster's audit stream; whoever clicked
 * in vain is told why, only them.
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
    const { runId, planHash } = parseApprovalButtonValue(action.value ?? '');
    const run = await deps.runs.get(runId);
    if (!run) return tell(`Run \`${runId}\` is not known to meshops. ${unchanged}`);
    const cluster = clusterKey(run.cluster);
    const audit = (entry: Omit<AuditEntry, 'at' | 'user' | 'runId'>) =>
      deps.audit.append(cluster, { at: deps.clock.now(), user, runId, ...entry });
    const refuse = async (reason: string, text: string) => {
      deps.log.info({ runId, user, approved, reason, audit: 'click-refused' }, 'approval click refused');
      await audit({ action: 'click-refused', reason });
      return tell(text);
    };

    // Where the click came from: only this run's current prompt, showing the plan it was asked about.
    const promptTs = await promptTsFor(runId, deps);
    const fromPrompt =
      run.approval !== undefined &&
      promptTs !== null &&
      body.message?.ts === promptTs &&
      action.block_id === approvalBlockId(runId, run.approval.planHash) &&
      planHash === run.approval.planHash;
    if (!fromPrompt) {
      return refuse(
        'not-the-prompt',
        `That button is not on the approval prompt of run \`${runId}\`. ${unchanged} Decide on the prompt in the run’s thread.`,
      );
    }
    const refused = await refusal(run, user, deps);
    if (refused)
      return refuse(refused.startsWith('You requested') ? 'self-approval' : 'not-an-approver', refused);

    const decision: Decision = {
      approved,
      by: user,
      at: deps.clock.now(),
      ...(approved ? {} : { reason: typedReason(body) }),
    };
    // Set by the attempt that is saved (update() may try again after a conflict).
    let outcome: { final: boolean } | { refused: string } = { refused: 'not-waiting' };
    const after = await deps.runs.update(runId, (current) => {
      const result = decisionRecorded(current, decision);
      outcome = isDecisionRefusal(result) ? result : { final: result.final };
      return isDecisionRefusal(result) ? null : result.run;
    });
    const recorded = outcome as { final: boolean } | { refused: string };
    if ('refused' in recorded) {
      const texts: Record<string, string> = {
        decided: `${alreadyDecided(after)}. ${unchanged}`,
        expired: `This approval expired ${new Date(after.approval?.expiresAt ?? after.updatedAt).toISOString()}; run \`${runId}\` is ${after.status}. ${unchanged}`,
        'approved-already': `You approved already; run \`${runId}\` needs another, different approver. ${unchanged}`,
        'not-waiting': `Run \`${runId}\` is not waiting for approval (it is ${after.status}). ${unchanged}`,
      };
      return refuse(recorded.refused, texts[recorded.refused] ?? unchanged);
    }
    await audit({
      action: approved ? 'approved' : 'rejected',
      ...(decision.reason ? { reason: decision.reason } : {}),
    });
    deps.log.info({ runId, user, approved, audit: 'approval' }, approved ? 'run approved' : 'run rejected');
    if (!recorded.final) {
      // One of two: the prompt says who approved and keeps its buttons for the second approver.
      await deps.notifier.emit(after, { type: 'approvalProgressed' });
      return tell(
        `Approved. Run \`${runId}\` needs one more approver, not you and not <@${run.requester.userId}>.`,
      );
    }
    await deps.queue.wake(runId);
  };
}
