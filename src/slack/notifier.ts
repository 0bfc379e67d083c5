import type { RunEvent } from '../workflows/events.js';
import { runEventKey } from '../workflows/events.js';
import type { Notifier } from '../workflows/ports.js';
import type { RunRecord } from '../workflows/run.js';
import type { MessageContent } from '../store/messages.js';
import type { Outbox } from './outbox.js';
import { resolvedListMessage } from './renderBatch.js';
import { batchDryRunMessage } from './renderBatchDryRun.js';
import { dryRunPlanMessage } from './renderDryRun.js';
import { approvalMessage, closedApprovalMessage, rootMessage, runEventText, truncate } from './render.js';

/** Run messages are kept a week: long enough for the last updates and for `status` to link the thread. */
const RUN_MESSAGE_SECONDS = 7 * 86_400;

/** A batch whose list was never confirmed has no root message: it answers its requester only. */
function unstartedBatch(run: RunRecord): boolean {
  return run.kind === 'enable-batch' && !run.facts.members;
}

export function runMessageKey(runId: string, eventKey: string): string {
  return `run/${runId}/${eventKey}`;
}

/**
 * A run's Slack thread: one root message kept up to date, one reply per event key, the approval
 * prompt broadcast to the channel. Everything goes through the outbox, keyed on the run, so a step
 * that runs again never posts twice; messages of a run are sent in the order they were emitted.
 */
export class RunNotifier implements Notifier {
  constructor(private readonly outbox: Outbox) {}

  async emit(run: RunRecord, event: RunEvent): Promise<void> {
    // A run of a batch has no thread: its batch's root message and thread tell about it.
    if (run.parent) return;
    const root = runMessageKey(run.id, 'root');
    switch (event.type) {
      case 'batchResolved':
        return run.kind === 'enable-batch'
          ? this.respond(run, 'resolved', resolvedListMessage(run))
          : undefined;
      case 'batchStarted':
        return this.post(run, 'root', rootMessage(run), {});
      case 'started':
        // A batch posts its root once its list is confirmed and its runs started (batchStarted).
        if (run.kind === 'enable-batch') return;
        return this.post(run, 'root', rootMessage(run), {});
      case 'progressed':
        return this.outbox.update(root, rootMessage(run), run.version);
      case 'approvalRequested':
        return this.post(run, 'approval', approvalMessage(run), { thread: root, broadcast: true });
      case 'approvalRenewed':
        // The prompt keeps its place (and its ts, which a click is checked against) with the new plan; a
        // reply in the thread, broadcast, says why it asks again.
        await this.outbox.update(runMessageKey(run.id, 'approval'), approvalMessage(run), run.version);
        return this.post(
          run,
          `approval:renewed:${event.hash}`,
          { text: truncate(runEventText(run, event), 3900) },
          { thread: root, broadcast: true },
        );
      case 'approvalProgressed':
        return this.outbox.update(runMessageKey(run.id, 'approval'), approvalMessage(run), run.version);
      case 'approvalClosed':
        return this.outbox.update(runMessageKey(run.id, 'approval'), closedApprovalMessage(run), run.version);
      case 'finished':
        if (unstartedBatch(run))
          return this.respond(run, 'outcome', { text: truncate(runEventText(run, event), 3900) });
        // A dry run's outcome is its plan; a batch's, the line of each of its members' plans.
        await this.post(
          run,
          'outcome',
          run.dryRun
            ? run.kind === 'enable-batch'
              ? batchDryRunMessage(run)
              : dryRunPlanMessage(run)
            : { text: truncate(runEventText(run, event), 3900) },
          { thread: root },
        );
        return this.outbox.update(root, rootMessage(run), run.version);
      case 'closed':
        if (unstartedBatch(run)) return;
        // Behind everything the thread sends: then only the root and the prompt are kept, for their updates.
        return this.outbox.send({
          key: runMessageKey(run.id, 'closed'),
          op: 'compact',
          channel: run.slack.channel,
          chain: `run/${run.id}`,
          keep: [root, runMessageKey(run.id, 'approval')],
          content: { text: '' },
          keepSeconds: 3600,
        });
      default: {
        const key = runEventKey(event);
        if (key === null) return;
        return this.post(run, key, { text: truncate(runEventText(run, event), 3900) }, { thread: root });
      }
    }
  }

  /** To the requester only, through the command's response_url (a batch's list, before anything starts). */
  private respond(run: RunRecord, eventKey: string, content: MessageContent): Promise<void> {
    return this.outbox.send({
      key: runMessageKey(run.id, eventKey),
      op: 'respond',
      channel: run.slack.channel,
      user: run.requester.userId,
      responseUrl: run.kind === 'enable-batch' ? run.options.responseUrl : '',
      content,
      keepSeconds: 3600,
    });
  }

  private post(
    run: RunRecord,
    eventKey: string,
    content: MessageContent,
    where: { thread?: string; broadcast?: boolean },
  ): Promise<void> {
    return this.outbox.send({
      key: runMessageKey(run.id, eventKey),
      op: 'post',
      channel: run.slack.channel,
      chain: `run/${run.id}`,
      ...where,
      content,
      keepSeconds: RUN_MESSAGE_SECONDS,
    });
  }
}
