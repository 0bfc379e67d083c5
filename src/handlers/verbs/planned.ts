import { ephemeral } from '../reply.js';
import { defineVerb, type RegisteredVerb } from '../verb.js';

/** A verb of DESIGN.md that this version does not run yet: a clear answer, not a usage error. */
export function plannedVerb(name: string, usage: string, summary: string): RegisteredVerb {
  const verb = defineVerb<null>({
    name,
    usage,
    summary,
    example: usage,
    parse: () => null,
    handle: () =>
      Promise.resolve(
        ephemeral(`\`/mesh ${name}\` is not available in this version yet. Nothing was started.`),
      ),
  });
  return { ...verb, planned: true };
}
