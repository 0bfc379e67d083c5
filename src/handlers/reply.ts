/** The ephemeral answer to a slash command (only the person who typed it sees it). */
export interface EphemeralReply {
  response_type: 'ephemeral';
  text: string;
}

export function ephemeral(text: string): EphemeralReply {
  return { response_type: 'ephemeral', text };
}
