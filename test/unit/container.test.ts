/**
 * The image and docker-compose.yml, checked by reading them (no Docker engine here): a multi-stage
 * build on Node 24 that runs as a numeric non-root user with no dev dependencies; Redis persistent
 * and never evicting; every variable of the runtime contract passed to the bot and listed in
 * .env.example; the `local` profile's bot pointed at the emulator by the name it advertises.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { runtimeContract } from '../../src/config.js';

interface Service {
  profiles?: string[];
  image?: string;
  build?: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
}

const compose = parse(readFileSync('docker-compose.yml', 'utf8')) as { services: Record<string, Service> };
const { services } = compose;

describe('Dockerfile', () => {
  const lines = readFileSync('Dockerfile', 'utf8')
    .split('\n')
    .filter((l) => l.trim() && !l.trim().startsWith('#'));
  const stages = lines.filter((l) => /^FROM /.test(l));

  it('builds in one stage and runs in another, both on Node 24', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage).toMatch(/^FROM node:24(-[\w.-]+)?( AS \w+)?$/);
  });

  it('runs as a numeric non-root user, without dev dependencies', () => {
    const final = lines.slice(lines.lastIndexOf(stages.at(-1)!));
    const user = final.filter((l) => l.startsWith('USER ')).at(-1);
    expect(user).toMatch(/^USER [1-9]\d*(:[1-9]\d*)?$/);
    expect(lines.join('\n')).toMatch(/npm (prune|ci) [^\n]*--omit=dev/);
    // The final stage installs nothing itself: it copies the pruned node_modules.
    expect(final.some((l) => /npm (ci|install)/.test(l))).toBe(false);
    expect(final.at(-1)).toBe('CMD ["node", "dist/src/main.js"]');
  });

  it('node-forge, which the emulator imports at run time, is a dependency, not a dev one', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string> };
    expect(pkg.dependencies['node-forge']).toBeDefined();
  });
});

describe('docker-compose.yml', () => {
  it('Redis keeps everything (AOF) and never evicts', () => {
    const command = services.redis!.command!.join(' ');
    expect(command).toContain('--appendonly yes');
    expect(command).toContain('--maxmemory-policy noeviction');
    expect(services['redis-local']!.command!.join(' ')).toContain('--maxmemory-policy noeviction');
  });

  it('passes the bot every variable of the runtime contract, and no other', () => {
    expect(Object.keys(services.meshops!.environment!).sort()).toEqual([...runtimeContract].sort());
  });

  it('the local profile: a bot that reaches the emulator by the name the emulator advertises', () => {
    const sim = services.sim!;
    const bot = services['meshops-local']!;
    expect(sim.profiles).toEqual(['local']);
    expect(bot.profiles).toEqual(['local']);
    const flag = (name: string) => sim.command!.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
    expect(flag('advertise-host')).toBe('sim');
    expect(flag('bot-url')).toBe(`http://meshops-local:${bot.environment!.PORT}`);
    expect(flag('signing-secret')).toBe(bot.environment!.SLACK_SIGNING_SECRET);
    expect(flag('token')).toBe(bot.environment!.MESHOPS_GCP_ACCESS_TOKEN);
    expect(flag('slack-token')).toBe(bot.environment!.SLACK_BOT_TOKEN);
    const base = Number(flag('port-base'));
    const urls = [
      'MESHOPS_GKEHUB_URL',
      'MESHOPS_CONTAINER_URL',
      'MESHOPS_SERVICEUSAGE_URL',
      'MESHOPS_RESOURCEMANAGER_URL',
    ];
    urls.forEach((name, i) => expect(bot.environment![name]).toBe(`http://sim:${base + i}/`));
    expect(bot.environment!.SLACK_API_URL).toBe(`http://sim:${base + 4}/api/`);
    expect(bot.environment!.MESHOPS_CONNECTGATEWAY_URL).toBe(`http://sim:${base + 5}/`);
    expect(bot.environment!.REDIS_URL).toBe('redis://redis-local:6379');
    for (const name of Object.keys(bot.environment!)) expect(runtimeContract).toContain(name);
    // The console can click as the approvers: published on this machine's loopback only.
    expect(sim.ports).toEqual(['127.0.0.1:3000:3000']);
  });
});

describe('.env.example', () => {
  it('lists the runtime contract, each once, and nothing else', () => {
    const names = readFileSync('.env.example', 'utf8')
      .split('\n')
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => l.slice(0, l.indexOf('=')));
    expect(names.sort()).toEqual([...runtimeContract].sort());
  });
});
