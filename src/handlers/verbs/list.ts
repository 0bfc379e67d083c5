import { listMessage } from '../../slack/list.js';
import { invalid } from '../grammar.js';
import { ephemeral } from '../reply.js';
import { defineVerb } from '../verb.js';

/** `/mesh list`: from Redis alone, so it answers at once. */
export const listVerb = defineVerb<null>({
  name: 'list',
  usage: 'list',
  summary: 'runs in flight (step, age, who asked) and watched clusters (channel, last change seen)',
  example: 'list',
  parse: (args) => (args.length ? invalid('`list` takes nothing after it') : null),
  async handle(_command, _request, { runs, watches, clock }) {
    const [active, watched] = await Promise.all([runs.active(100), watches.list(100)]);
    return ephemeral(listMessage(active, watched, clock.now()));
  },
});
