import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { workflowOf } from '../../workflows/registry.js';
import { batchConfirmed, cancelled, isRefusal } from '../../workflows/transitions.js';
import type { HandlerDeps } from '../deps.js';

type ButtonArgs = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs;

/**
 * Start / Discard on a batch's resolved list. Only the requester may answer (the list is theirs,
 * shown only to them); Start records the confirmation with compare-and-set and wakes the batch,
 * Discard cancels it, nothing having been started. A second click, or one on an old list, changes
 * nothing and says why.
 */
export function confirmBatchAction(start: boolean, deps: HandlerDeps) {
  return async ({ ack, body, action }: ButtonArgs): Promise<void> => {
    await ack();
    const user = body.user.id;
    const tell = (text: string) =>
      deps.outbox.send({
        key: `click/${body.trigger_id}`,
        op: 'ephemeral',
        channel: body.channel?.id ?? '',
        user,
        content: { text },
        keepSeconds: 3600,
      });
    const runId = action.value ?? '';
    const run = await deps.runs.get(runId);
    if (!run || run.kind !== 'enable-batch')
      return tell(`Batch \`${runId}\` is not known to meshops. Nothing was started.`);
    if (user !== run.requester.userId) {
      deps.log.info({ runId, user, audit: 'confirm' }, 'batch confirm refused: not the requester');
      return tell(
        `Only <@${run.requester.userId}>, who asked for batch \`${runId}\`, may start it. Nothing was started.`,
      );
    }
    const now = deps.clock.now();
    let changed = false;
    const after = await deps.runs.update(runId, (current) => {
      const next = start
        ? batchConfirmed(current, user, now)
        : current.step === 'confirm'
          ? cancelled(
              current,
              { by: user, at: now },
              workflowOf(current.kind).order,
              workflowOf(current.kind).pointOfNoReturn,
            )
          : null;
      changed = next !== null && !isRefusal(next);
      return changed ? (next as typeof current) : null;
    });
    if (!changed) {
      return tell(
        `Batch \`${runId}\` is past its list (it is ${after.status}, at ${after.step}). Your click changed nothing.`,
      );
    }
    deps.log.info({ runId, user, audit: 'confirm', start }, start ? 'batch confirmed' : 'batch discarded');
    if (!start) {
      await deps.locks.unlock(after);
      await deps.queue.wake(runId);
      return tell(`:wastebasket: Discarded batch \`${runId}\`: nothing was started.`);
    }
    await deps.queue.wake(runId);
    const count = after.kind === 'enable-batch' ? (after.facts.resolved?.length ?? 0) : 0;
    return tell(
      `:rocket: Starting ${count} runs: batch \`${runId}\` posts its progress in <#${after.slack.channel}>.`,
    );
  };
}
