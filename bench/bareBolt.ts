/**
 * The framework's floor: a Bolt app on the HTTP receiver that verifies the signature and acks
 * `/mesh` at once with a short ephemeral text, nothing else. bench/ackLatency.ts measures it side
 * by side with meshops. Reads SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN and SLACK_API_URL (Bolt checks
 * the token with auth.test once, as meshops does; point both at the emulator) and PORT (0: any).
 */
import { App, HTTPReceiver, LogLevel } from '@slack/bolt';
import type { AddressInfo } from 'node:net';

const receiver = new HTTPReceiver({
  signingSecret: process.env.SLACK_SIGNING_SECRET ?? '',
  endpoints: '/slack/events',
  logLevel: LogLevel.ERROR,
});
const app = new App({
  token: process.env.SLACK_BOT_TOKEN ?? '',
  receiver,
  logLevel: LogLevel.ERROR,
  clientOptions: { slackApiUrl: process.env.SLACK_API_URL ?? 'https://slack.com/api/' },
});
app.command('/mesh', async ({ ack }) => {
  await ack({ response_type: 'ephemeral', text: 'Queued run `r0bare`.' });
});
const server = (await app.start(Number(process.env.PORT ?? 0))) as { address(): AddressInfo };
console.log(JSON.stringify({ msg: 'bare bolt started', url: `http://127.0.0.1:${server.address().port}` }));
