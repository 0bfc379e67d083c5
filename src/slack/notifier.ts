import type { WebClient } from '@slack/web-api';
import { MeshopsError } from '../errors.js';
import type { MessageKeys } from '../store/messageKeys.js';
import type { Notifier, ThreadMessage } from '../workflows/ports.js';
import type { RunRecord } from '../workflows/run.js';
import { approvalMessage, closedApprovalMessage, outcomeText, rootMessage, truncate } from './render.js';

function tsOf(result: { ts?: string }, what: string): string {
  if (!result.ts) throw new MeshopsError('INTERNAL', `Slack answered ${what} without a ts`);
  return result.ts;
}

/**
 * A run's Slack thread: one root message kept up to date, one reply per key. Keys are stored
 * with the ts Slack gave, so a step that runs again never posts twice.
 */
export class SlackNotifier implements Notifier {
  constructor(
    private readonly web: WebClient,
    private readonly keys: MessageKeys,
  ) {}

  private threadOf(run: RunRecord): string {
    if (!run.slack.rootTs) throw new MeshopsError('INTERNAL', `run ${run.id} has no root message yet`);
    return run.slack.rootTs;
  }

  postRoot(run: RunRecord): Promise<string> {
    return this.keys.once(run.id, 'root', async () =>
      tsOf(
        await this.web.chat.postMessage({ channel: run.slack.channel, ...rootMessage(run) }),
        'chat.postMessage',
      ),
    );
  }

  async updateRoot(run: RunRecord): Promise<void> {
    await this.web.chat.update({ channel: run.slack.channel, ts: this.threadOf(run), ...rootMessage(run) });
  }

  async reply(run: RunRecord, message: ThreadMessage): Promise<void> {
    const thread_ts = this.threadOf(run);
    await this.keys.once(run.id, message.key, async () =>
      tsOf(
        await this.web.chat.postMessage({
          channel: run.slack.channel,
          thread_ts,
          text: truncate(message.text, 3900),
        }),
        'chat.postMessage',
      ),
    );
  }

  askApproval(run: RunRecord): Promise<string> {
    const thread_ts = this.threadOf(run);
    return this.keys.once(run.id, 'approval', async () =>
      tsOf(
        await this.web.chat.postMessage({
          channel: run.slack.channel,
          thread_ts,
          reply_broadcast: true,
          ...approvalMessage(run),
        }),
        'chat.postMessage',
      ),
    );
  }

  async closeApproval(run: RunRecord): Promise<void> {
    const ts = run.approval?.promptTs ?? (await this.keys.get(run.id, 'approval'));
    if (!ts) return;
    await this.web.chat.update({ channel: run.slack.channel, ts, ...closedApprovalMessage(run) });
  }

  async announceOutcome(run: RunRecord): Promise<void> {
    await this.reply(run, { key: 'outcome', text: outcomeText(run) });
    await this.updateRoot(run);
  }
}
