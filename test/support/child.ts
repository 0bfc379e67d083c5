import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Sim } from '../../src/sim/index.js';
import { contractEnv, fastOutbox } from './harness.js';
import { testPrefix } from './redis.js';

export interface MeshopsProcess {
  url: string;
  child: ChildProcess;
  output: string[];
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export function writeConfigFile(config: Record<string, unknown>): string {
  const file = join(mkdtempSync(join(tmpdir(), 'meshops-config-')), 'meshops.yaml');
  writeFileSync(file, stringify(config));
  return file;
}

export interface ProcessSettings {
  /** Worker settings over a 2 s lock and a 1 s stalled check, so a killed worker's job moves on fast. */
  worker?: Record<string, number>;
  pollIntervalMs?: number;
  /** Default: a fresh one, so processes started with the same env share their Redis keys. */
  prefix?: string;
  redisUrl?: string;
}

/**
 * The environment of meshops processes that a test kills and starts again: the runtime contract
 * pointed at `sim`, Slack paced fast, Google retried quickly, a short worker lock.
 */
export function processEnv(sim: Sim, settings: ProcessSettings = {}): Record<string, string> {
  const config = {
    redis: { prefix: settings.prefix ?? testPrefix() },
    worker: { lockDurationMs: 2000, stalledIntervalMs: 1000, ...settings.worker },
    outbox: fastOutbox,
    google: { retry: { attempts: 4, baseDelayMs: 50, maxDelayMs: 500 } },
  };
  return contractEnv(
    sim,
    {
      MESHOPS_CONFIG: writeConfigFile(config),
      MESHOPS_POLL_INTERVAL_MS: String(settings.pollIntervalMs ?? 200),
    },
    ...(settings.redisUrl ? [settings.redisUrl] : []),
  );
}

/**
 * meshops as a real process (`node --import tsx src/main.ts`), configured only through the runtime
 * contract's environment, so a test can SIGKILL it mid-run.
 */
export async function startMeshopsProcess(
  env: Record<string, string>,
  timeoutMs = 30_000,
  /** Node's own flags, e.g. --cpu-prof (which NODE_OPTIONS may not carry). */
  nodeArgs: string[] = [],
  /** Another program that logs a JSON line with `msg` and `url` once it listens (bench/bareBolt.ts). */
  program: { script: string; ready: string } = { script: 'src/main.ts', ready: 'meshops started' },
): Promise<MeshopsProcess> {
  // Built JavaScript runs as it would in production; TypeScript through tsx.
  const loader = program.script.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const child = spawn(process.execPath, [...nodeArgs, ...loader, program.script], {
    cwd: process.cwd(),
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${program.script} did not start in ${timeoutMs} ms:\n${output.join('')}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      output.push(text);
      for (const line of text.split('\n')) {
        if (!line.includes(`"${program.ready}"`)) continue;
        const parsed = JSON.parse(line) as { url?: string };
        clearTimeout(timer);
        resolve(parsed.url ?? '');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${program.script} exited with ${code} before it started:\n${output.join('')}`));
    });
  });
  return {
    url,
    child,
    output,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

export interface Ended {
  code: number | null;
  stderr: string;
  stdout: string;
}

/** meshops as a process that is expected to stop on its own (a start-up failure): its exit code and output. */
export function runToExit(env: Record<string, string>, timeoutMs = 30_000): Promise<Ended> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`meshops did not exit in ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, stdout });
    });
  });
}
