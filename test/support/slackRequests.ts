import { signedHeaders, signSlackRequest } from '../../src/slack/requests.js';

export { buttonClickBody, slashCommandBody, slashCommandFields } from '../../src/slack/requests.js';
export const sign = signSlackRequest;

export interface PostOptions {
  secret: string;
  /** Seconds since the epoch; defaults to now. */
  timestamp?: number;
  signature?: string;
}

export async function postSigned(url: string, body: string, options: PostOptions): Promise<Response> {
  const headers = signedHeaders(options.secret, body, options.timestamp);
  if (options.signature) headers['X-Slack-Signature'] = options.signature;
  return fetch(`${url}/slack/events`, { method: 'POST', headers, body });
}
