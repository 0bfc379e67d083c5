/**
 * The emulator and the web console in one process, for a meshops running elsewhere: in another
 * container (`docker compose --profile local up`) or another terminal. The bot is an ordinary one,
 * configured through the runtime contract with the lines this prints; the console signs what you
 * type and click with the same signing secret and posts it to the bot's /slack/events.
 *
 *   node dist/src/console/cli.js --bot-url http://meshops-local:3000 --host 0.0.0.0 --advertise-host sim
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { envLines, runCli, untilStopped, worldLines } from '../sim/cliCommon.js';
import { startSim } from '../sim/index.js';
import { serveRoutes } from '../slack/receivers.js';
import { consoleRoutes } from './server.js';
import { addSecondApprover, CONSOLE_APPROVERS } from './workspace.js';

const usage = `Usage: console --bot-url URL [--port 3000] [--host 127.0.0.1] [--advertise-host NAME]
                [--port-base 8085 (0: any free ports)] [--speed 20] [--signing-secret S] [--token T] [--slack-token T]
  The emulator listens on port-base .. port-base+4 (Google APIs, Slack), port-base+5 (Connect Gateway)
  and from port-base+6 (one Kubernetes API server per cluster), its state and control endpoint on a free port; the console on
  --port. Point meshops at the lines printed.`;

interface Options {
  botUrl: string;
  port: number;
  host: string;
  advertiseHost?: string;
  portBase: number;
  speed: number;
  signingSecret: string;
  token?: string;
  slackToken?: string;
}

function parse(argv: string[]): Options | string {
  const { values } = parseArgs({
    args: argv,
    options: {
      'bot-url': { type: 'string' },
      port: { type: 'string', default: '3000' },
      host: { type: 'string', default: '127.0.0.1' },
      'advertise-host': { type: 'string' },
      'port-base': { type: 'string', default: '8085' },
      speed: { type: 'string', default: '20' },
      'signing-secret': { type: 'string' },
      token: { type: 'string' },
      'slack-token': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return usage;
  if (!values['bot-url'] || !URL.canParse(values['bot-url']))
    return `--bot-url is required (a URL)\n${usage}`;
  const [port, portBase, speed] = [Number(values.port), Number(values['port-base']), Number(values.speed)];
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    return `--port must be a port, got "${values.port}"`;
  if (!Number.isInteger(portBase) || portBase < 0 || portBase > 65530)
    return `--port-base must be a port (0: any free ones), got "${values['port-base']}"`;
  if (!(speed > 0)) return `--speed must be a positive number, got "${values.speed}"`;
  return {
    botUrl: values['bot-url'].replace(/\/$/, ''),
    port,
    host: values.host,
    portBase,
    speed,
    signingSecret: values['signing-secret'] ?? randomBytes(16).toString('hex'),
    ...(values['advertise-host'] ? { advertiseHost: values['advertise-host'] } : {}),
    ...(values.token ? { token: values.token } : {}),
    ...(values['slack-token'] ? { slackToken: values['slack-token'] } : {}),
  };
}

async function main(): Promise<number> {
  const options = parse(process.argv.slice(2));
  if (typeof options === 'string') {
    process.stderr.write(`${options}\n`);
    return options === usage ? 0 : 2;
  }
  const { portBase } = options;
  const at = (offset: number) => (portBase === 0 ? 0 : portBase + offset);
  const sim = await startSim({
    host: options.host,
    speed: options.speed,
    ...(options.advertiseHost ? { advertiseHost: options.advertiseHost } : {}),
    ...(options.token ? { token: options.token } : {}),
    ...(options.slackToken ? { slackToken: options.slackToken } : {}),
    ports: {
      gkehub: at(0),
      container: at(1),
      serviceusage: at(2),
      resourcemanager: at(3),
      slack: at(4),
      connectgateway: at(5),
      kubernetes: at(6),
    },
  });
  addSecondApprover(sim);
  const listening = await serveRoutes(
    consoleRoutes({
      sim,
      signingSecret: options.signingSecret,
      approvers: CONSOLE_APPROVERS,
      botUrl: () => options.botUrl,
    }),
    options.port,
    options.host,
  );
  const lines = [
    `# meshops console at http://localhost:${new URL(listening.url).port}/ , for the bot at ${options.botUrl}`,
    ...worldLines(sim),
    ...envLines(sim),
    `SLACK_SIGNING_SECRET=${options.signingSecret}`,
    `MESHOPS_APPROVERS=${CONSOLE_APPROVERS.join(',')}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  await untilStopped();
  await listening.stop();
  await sim.close();
  return 0;
}

runCli('meshops console', main);
