/** Runs the real command-line tools with a given environment and keeps a transcript of what each printed. */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface Step {
  command: string;
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

function onPath(name: string, path: string): boolean {
  return path.split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Fails, naming what is missing and where it comes from, unless every tool is on PATH. */
export function requireTools(tools: Record<string, string>, path = process.env.PATH ?? ''): void {
  const missing = Object.entries(tools).filter(([name]) => !onPath(name, path));
  if (missing.length > 0) {
    throw new Error(
      `npm run test:clients needs ${missing.map(([name, from]) => `${name} (${from})`).join(', ')} on PATH; ` +
        'it does not skip without them.',
    );
  }
}

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export class Transcript {
  readonly steps: Step[] = [];

  constructor(private readonly env: Record<string, string>) {}

  /** Runs `argv` (never through a shell); rejects when it exits non-zero unless `allowFailure`. */
  run(argv: string[], options: { allowFailure?: boolean; timeoutMs?: number } = {}): Promise<Step> {
    const [file, ...args] = argv;
    if (file === undefined) throw new Error('nothing to run');
    const started = Date.now();
    return new Promise((resolve, reject) => {
      const child = spawn(file, args, { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const timer = setTimeout(() => child.kill('SIGTERM'), options.timeoutMs ?? 120_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        const step = {
          command: argv.map(quote).join(' '),
          code: code ?? -1,
          stdout,
          stderr,
          ms: Date.now() - started,
        };
        this.steps.push(step);
        if (step.code !== 0 && !options.allowFailure) {
          reject(new Error(`${step.command} exited ${step.code}:\n${stderr}${stdout}`));
        } else {
          resolve(step);
        }
      });
    });
  }

  /** Every step: `$ command`, its exit code and time, then its output (stderr first, as a terminal shows it). */
  text(): string {
    return this.steps
      .map((s) =>
        [
          `$ ${s.command}    # exit ${s.code}, ${(s.ms / 1000).toFixed(1)} s`,
          s.stderr.trimEnd(),
          s.stdout.trimEnd(),
        ]
          .filter(Boolean)
          .join('\n'),
      )
      .join('\n\n');
  }
}
