import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { APPROVE_ACTION, REJECT_ACTION } from '../slack/render.js';
import { CONFIRM_ACTION, DISCARD_ACTION } from '../slack/renderBatch.js';
import { confirmBatchAction } from './actions/confirm.js';
import { decideAction } from './actions/decide.js';
import type { HandlerDeps } from './deps.js';
import { meshCommand } from './registry.js';

export function registerHandlers(app: App, deps: HandlerDeps): void {
  app.command('/mesh', meshCommand(deps));
  app.action<BlockAction<ButtonAction>>(
    { type: 'block_actions', action_id: APPROVE_ACTION },
    decideAction(true, deps),
  );
  app.action<BlockAction<ButtonAction>>(
    { type: 'block_actions', action_id: REJECT_ACTION },
    decideAction(false, deps),
  );
  app.action<BlockAction<ButtonAction>>(
    { type: 'block_actions', action_id: CONFIRM_ACTION },
    confirmBatchAction(true, deps),
  );
  app.action<BlockAction<ButtonAction>>(
    { type: 'block_actions', action_id: DISCARD_ACTION },
    confirmBatchAction(false, deps),
  );
  // Any other button (from an old message, a forged or mangled payload) is acked at once, so Slack
  // shows no error after 3 s, and changes nothing.
  const known = new RegExp(
    `^(?!(${[APPROVE_ACTION, REJECT_ACTION, CONFIRM_ACTION, DISCARD_ACTION].join('|')})$)`,
  );
  app.action({ type: 'block_actions', action_id: known }, async ({ ack, body }) => {
    await ack();
    deps.log.info(
      { user: body.user.id, actions: body.actions.map((a) => a.action_id) },
      'unknown action ignored',
    );
  });
}
