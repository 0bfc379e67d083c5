/**
 * Crash trials: meshops as a real process, SIGKILLed at a seeded random point of `/mesh enable
 * cluster` — on the arrival of its k-th request to Google, Kubernetes or Slack (the server still
 * applies it; nobody reads the answer), or a few milliseconds later, while the process saves,
 * parks or sends from the outbox. A new process takes over at once. Every trial must end
 * succeeded, exactly once: one membership created, one label update, one PATCH of the feature,
 * each namespace labelled once, one root message and no reply twice.
 *
 * CRASH_TRIALS (default 50) and CRASH_SEED (default 1729) reproduce a run; a failure names its trial.
 */
import { startSim, type Sim } from '../../src/sim/index.js';
import type { RequestEntry } from '../../src/sim/requestLog.js';
import { processEnv, startMeshopsProcess, type MeshopsProcess } from '../support/child.js';
import { click, hasButtons, roots, slash, threadOf } from '../support/flows.js';
import { APPROVER } from '../support/harness.js';
import { waitFor } from '../support/wait.js';
import { inLanes, killPoints, type KillPoint } from './trials.js';

const TRIALS = Number(process.env.CRASH_TRIALS ?? 50);
const SEED = Number(process.env.CRASH_SEED ?? 1729);
/** Trials run this many at a time, each with its own emulator, Redis prefix and processes. */
const LANES = 2;
const CLUSTER = 'proj-a/us-central1/c1';
const NAMESPACES = ['default', 'shop'];

interface TrialResult {
  trial: number;
  kill: KillPoint | null;
  /** What the k-th request was, e.g. 'slack POST /api/chat.postMessage'. */
  killedOn?: string;
  /** Kill → the new process's first request to any server. */
  resumeMs?: number;
  requests: number;
  problems: string[];
}

function ok(entry: RequestEntry): boolean {
  return entry.status >= 200 && entry.status < 300;
}

/** What must hold after any trial: the run succeeded, and every change happened once. */
function problemsOf(sim: Sim): string[] {
  const problems: string[] = [];
  const mutations = sim.requests.mutations().filter(ok);
  const count = (method: string, test: (path: string) => boolean) =>
    mutations.filter((e) => e.method === method && test(e.path)).length;
  const expectOnce = (what: string, n: number) => {
    if (n !== 1) problems.push(`${what}: ${n} times`);
  };
  expectOnce(
    'membership created',
    count('POST', (p) => p.endsWith('/memberships')),
  );
  expectOnce(
    'cluster labels set',
    count('POST', (p) => p.endsWith(':setResourceLabels')),
  );
  expectOnce(
    'servicemesh feature patched',
    count('PATCH', (p) => p.endsWith('/features/servicemesh')),
  );
  for (const ns of NAMESPACES) {
    expectOnce(
      `namespace ${ns} labelled`,
      count('PATCH', (p) => p === `/api/v1/namespaces/${ns}`),
    );
  }
  const rootCount = roots(sim).length;
  if (rootCount !== 1) problems.push(`root messages: ${rootCount}`);
  const replies = threadOf(sim)
    .slice(1)
    .map((m) => m.text);
  const twice = replies.filter((text, i) => replies.indexOf(text) !== i);
  if (twice.length) problems.push(`replies posted twice: ${twice.map((t) => t.slice(0, 60)).join(' | ')}`);
  if (!replies.some((t) => t.startsWith(':tada: Done.'))) problems.push('the run did not succeed');
  return problems;
}

async function trial(index: number, kill: KillPoint | null): Promise<TrialResult> {
  const sim = await startSim({ speed: 100, scenario: 'default' });
  const env = processEnv(sim, { pollIntervalMs: 100 });
  const processes: MeshopsProcess[] = [];
  let current = await startMeshopsProcess(env);
  processes.push(current);
  const result: TrialResult = { trial: index, kill, requests: 0, problems: [] };
  let killedAt = 0;
  let counting = false;
  let replacing = null as Promise<void> | null;
  const stopListening = sim.requests.onArrival((arrival) => {
    if (!counting) return;
    result.requests += 1;
    // The new process's first step of work (its start-up's auth.test is not work).
    if (killedAt && result.resumeMs === undefined && !arrival.path.endsWith('/auth.test')) {
      result.resumeMs = Date.now() - killedAt;
    }
    if (!kill || result.requests !== kill.request || replacing) return;
    result.killedOn = `${arrival.api} ${arrival.method} ${arrival.path}`;
    const victim = current;
    replacing = (async () => {
      if (kill.delayMs) await new Promise((r) => setTimeout(r, kill.delayMs));
      killedAt = Date.now();
      await victim.kill('SIGKILL');
      current = await startMeshopsProcess(env);
      processes.push(current);
    })();
  });
  try {
    const ack = await slash(current.url, `enable cluster ${CLUSTER} namespaces=${NAMESPACES.join(',')}`);
    if (ack.status !== 200) throw new Error(`the command answered ${ack.status}`);
    counting = true;
    // Approve as a person would: click the prompt's button, again if the process that got the click died first.
    await waitFor(
      'the run to finish',
      async () => {
        const thread = threadOf(sim);
        if (thread.some((m) => m.text.startsWith(':tada:') || m.text.startsWith(':x:'))) return true;
        const prompt = thread.find(hasButtons);
        if (prompt) await click(current.url, APPROVER, prompt).catch(() => 0);
        return false;
      },
      90_000,
      500,
    );
    // Let a duplicate that is still on its way arrive before counting.
    await new Promise((r) => setTimeout(r, 500));
    counting = false;
    if (replacing) await replacing;
    result.problems = problemsOf(sim);
  } catch (error) {
    result.problems.push(String(error));
    result.problems.push(...problemsOf(sim));
  } finally {
    counting = false;
    stopListening();
    if (replacing) await replacing.catch(() => undefined);
    for (const p of processes) await p.kill('SIGTERM');
    await sim.close();
  }
  return result;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

describe('crash trials', () => {
  it(`${TRIALS} seeded kills (seed ${SEED}) of /mesh enable cluster: each run completes, every change exactly once`, async () => {
    // A run without a kill says how many requests a run makes: the kill points are drawn from them.
    const clean = await trial(0, null);
    expect(clean.problems).toEqual([]);
    const points = killPoints(TRIALS, clean.requests, SEED);
    const results = await inLanes(points, LANES, trial);
    const resumes = results.flatMap((r) => (r.resumeMs === undefined ? [] : [r.resumeMs]));
    const killed = results.filter((r) => r.killedOn);
    const summary = {
      seed: SEED,
      trials: results.length,
      killed: killed.length,
      requestsPerCleanRun: clean.requests,
      resumeMs: { p50: percentile(resumes, 50), p90: percentile(resumes, 90), max: Math.max(0, ...resumes) },
      killedOn: Object.entries(
        killed.reduce<Record<string, number>>((acc, r) => {
          const api = r.killedOn!.split(' ')[0]!;
          acc[api] = (acc[api] ?? 0) + 1;
          return acc;
        }, {}),
      ),
    };
    console.log(`crash trials: ${JSON.stringify(summary)}`);
    const failed = results
      .filter((r) => r.problems.length)
      .map(
        (r) =>
          `trial ${r.trial} (kill ${JSON.stringify(r.kill)} on ${r.killedOn ?? 'nothing'}): ${r.problems.join('; ')}`,
      );
    expect(failed).toEqual([]);
    // Nearly every draw lands inside the run; one that does not is still a valid trial, but says little.
    expect(killed.length).toBeGreaterThanOrEqual(Math.floor(TRIALS * 0.8));
  }, 1_800_000);
});
