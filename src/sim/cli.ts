import { parseArgs } from 'node:util';
import { clientHelp, prepareClientFiles } from './clientConfig.js';
import { envLines, runCli, untilStopped, worldLines } from './cliCommon.js';
import { startSim } from './index.js';
import { scenarioNames } from './scenarios.js';
import type { ScenarioName } from './types.js';

const usage = `Usage: npm run sim -- [--scenario ${scenarioNames.join('|')}] [--speed N] [--port-base 8085] [--host 127.0.0.1] [--advertise-host NAME]
  Google APIs listen on port-base .. port-base+3 (gkehub, container, serviceusage, resourcemanager),
  Slack on port-base+4, the HTTPS proxy for gcloud on port-base+5, the emulator's own state and control
  endpoint on port-base+6 (GET /_sim/state; POST /_sim/speed, /_sim/mesh, /_sim/faults), Connect Gateway
  on port-base+7, cluster API servers from port-base+8.
  --advertise-host: the name clients reach the emulator by (e.g. sim in docker-compose), in every URL
  and cluster endpoint it reports; default --host, or 127.0.0.1 for 0.0.0.0.`;

interface CliOptions {
  scenario: ScenarioName;
  speed: number;
  portBase: number;
  host: string;
  advertiseHost?: string;
  token?: string;
  slackToken?: string;
}

function isScenarioName(value: string): value is ScenarioName {
  return (scenarioNames as string[]).includes(value);
}

function parseCli(argv: string[]): CliOptions | string {
  const { values } = parseArgs({
    args: argv,
    options: {
      scenario: { type: 'string', default: 'default' },
      speed: { type: 'string', default: '1' },
      'port-base': { type: 'string', default: '8085' },
      host: { type: 'string', default: '127.0.0.1' },
      'advertise-host': { type: 'string' },
      token: { type: 'string' },
      'slack-token': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return usage;
  const speed = Number(values.speed);
  const portBase = Number(values['port-base']);
  if (!isScenarioName(values.scenario)) {
    return `unknown scenario "${values.scenario}" (known: ${scenarioNames.join(', ')})`;
  }
  if (!(speed > 0)) return `--speed must be a positive number, got "${values.speed}"`;
  if (!Number.isInteger(portBase) || portBase <= 0 || portBase > 65530) {
    return `--port-base must be a port, got "${values['port-base']}"`;
  }
  return {
    scenario: values.scenario,
    speed,
    portBase,
    host: values.host,
    ...(values['advertise-host'] === undefined ? {} : { advertiseHost: values['advertise-host'] }),
    ...(values.token === undefined ? {} : { token: values.token }),
    ...(values['slack-token'] === undefined ? {} : { slackToken: values['slack-token'] }),
  };
}

async function main(): Promise<number> {
  const options = parseCli(process.argv.slice(2));
  if (typeof options === 'string') {
    process.stderr.write(`${options}\n`);
    return options === usage ? 0 : 2;
  }
  const { portBase } = options;
  const sim = await startSim({
    host: options.host,
    ...(options.advertiseHost === undefined ? {} : { advertiseHost: options.advertiseHost }),
    speed: options.speed,
    scenario: options.scenario,
    ...(options.token === undefined ? {} : { token: options.token }),
    ...(options.slackToken === undefined ? {} : { slackToken: options.slackToken }),
    ports: {
      gkehub: portBase,
      container: portBase + 1,
      serviceusage: portBase + 2,
      resourcemanager: portBase + 3,
      slack: portBase + 4,
      proxy: portBase + 5,
      control: portBase + 6,
      connectgateway: portBase + 7,
      kubernetes: portBase + 8,
    },
  });
  const files = await prepareClientFiles(sim);
  const lines = [
    `# meshops sim: scenario ${options.scenario}, speed ${options.speed}`,
    ...worldLines(sim),
    ...envLines(sim),
    ...clientHelp(sim, files),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  await untilStopped();
  await sim.close();
  await files.remove();
  return 0;
}

runCli('meshops sim', main);
