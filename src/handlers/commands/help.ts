import { usage } from '../parse.js';
import { ephemeral, type EphemeralReply } from '../reply.js';

export function helpCommand(): EphemeralReply {
  return ephemeral(
    `*meshops* puts GKE clusters onto Cloud Service Mesh through the Fleet API, and asks an approver before any namespace gets sidecars.\n${usage}`,
  );
}
