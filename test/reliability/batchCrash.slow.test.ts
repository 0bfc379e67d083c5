/**
 * Crash trials of a batch: `/mesh enable cluster` over four clusters, Start clicked, and the process
 * SIGKILLed at a seeded random point after that — on the arrival of its k-th request to Google,
 * Kubernetes or Slack, or a few milliseconds later — while the batch starts its runs, waits for their
 * plans, asks, releases them or follows them. A new process takes over at once. Every trial must end
 * with the batch's one summary, every cluster done exactly once (one membership, one label update,
 * one namespace label, one restart), one root message and no reply twice.
 *
 * BATCH_CRASH_TRIALS (default 8) and CRASH_SEED (default 1729) reproduce a run.
 */
import { startSim, type ClusterSpec, type Sim } from '../../src/sim/index.js';
import type { RequestEntry } from '../../src/sim/requestLog.js';
import { CONFIRM_ACTION } from '../../src/slack/renderBatch.js';
import { processEnv, startMeshopsProcess, type MeshopsProcess } from '../support/child.js';
import { ask, click, hasButtons, roots } from '../support/flows.js';
import { APPROVER, CHANNEL, REQUESTER } from '../support/harness.js';
import { waitFor } from '../support/wait.js';
import { inLanes, killPoints, type KillPoint } from './trials.js';

const TRIALS = Number(process.env.BATCH_CRASH_TRIALS ?? 8);
const SEED = Number(process.env.CRASH_SEED ?? 1729);
const LANES = 2;

const clusters: ClusterSpec[] = ['b1', 'b2', 'b3', 'b4'].map((name, i) => ({
  project: i % 2 ? 'crash-b' : 'crash-a',
  location: 'us-central1',
  name,
  releaseChannel: 'REGULAR',
  namespaces: [{ name: 'default', deployments: [{ name: 'web', replicas: 1 }] }, { name: 'istio-system' }],
}));
const SUMMARY = `${clusters.length} of ${clusters.length} cluster(s) on Cloud Service Mesh`;

interface TrialResult {
  trial: number;
  kill: KillPoint | null;
  killedOn?: string;
  requests: number;
  problems: string[];
}

const ok = (entry: RequestEntry) => entry.status >= 200 && entry.status < 300;

function problemsOf(sim: Sim): string[] {
  const problems: string[] = [];
  const mutations = sim.requests.mutations().filter(ok);
  for (const c of clusters) {
    const ref = `${c.project}/${c.location}/${c.name}`;
    const counts = {
      membership: mutations.filter(
        (e) =>
          e.method === 'POST' &&
          e.path.endsWith('/memberships') &&
          e.query.includes(`membershipId=${c.name}`),
      ).length,
      labels: mutations.filter(
        (e) => e.path.endsWith(`/clusters/${c.name}:setResourceLabels`) && e.path.includes(`/${c.project}/`),
      ).length,
      namespace: mutations.filter((e) => e.cluster === ref && e.path === '/api/v1/namespaces/default').length,
      restart: mutations.filter((e) => e.cluster === ref && e.path.endsWith('/deployments/web')).length,
    };
    for (const [what, n] of Object.entries(counts)) if (n !== 1) problems.push(`${ref} ${what}: ${n} times`);
  }
  const rootCount = roots(sim).length;
  if (rootCount !== 1) problems.push(`root messages: ${rootCount}`);
  const replies = roots(sim)[0]
    ? sim.slack
        .thread(CHANNEL, roots(sim)[0]!.ts)
        .slice(1)
        .map((m) => m.text)
    : [];
  const twice = replies.filter((text, i) => replies.indexOf(text) !== i);
  if (twice.length) problems.push(`replies posted twice: ${twice.map((t) => t.slice(0, 60)).join(' | ')}`);
  const summaries = replies.filter((t) => t.includes(SUMMARY)).length;
  if (summaries !== 1) problems.push(`batch summaries: ${summaries}`);
  return problems;
}

async function trial(index: number, kill: KillPoint | null): Promise<TrialResult> {
  const sim = await startSim({
    speed: 100,
    scenario: {
      projects: [
        { id: 'crash-a', number: '330000000001' },
        { id: 'crash-b', number: '330000000002' },
      ],
      clusters,
    },
  });
  const env = processEnv(sim, { pollIntervalMs: 100 });
  const processes: MeshopsProcess[] = [];
  let current = await startMeshopsProcess(env);
  processes.push(current);
  const result: TrialResult = { trial: index, kill, requests: 0, problems: [] };
  let counting = false;
  let replacing = null as Promise<void> | null;
  const stopListening = sim.requests.onArrival((arrival) => {
    if (!counting) return;
    result.requests += 1;
    if (!kill || result.requests !== kill.request || replacing) return;
    result.killedOn = `${arrival.api} ${arrival.method} ${arrival.path}`;
    const victim = current;
    replacing = (async () => {
      if (kill.delayMs) await new Promise((r) => setTimeout(r, kill.delayMs));
      await victim.kill('SIGKILL');
      current = await startMeshopsProcess(env);
      processes.push(current);
    })();
  });
  try {
    const list = await ask(current.url, sim, 'enable cluster crash-a/-/* crash-b/-/* namespaces=default');
    if ((await click(current.url, REQUESTER, list, CONFIRM_ACTION)) !== 200) throw new Error('Start failed');
    counting = true;
    await waitFor(
      'the batch summary',
      async () => {
        const root = roots(sim)[0];
        if (!root) return false;
        const thread = sim.slack.thread(CHANNEL, root.ts);
        if (thread.some((m) => m.text.includes(SUMMARY) || m.text.includes('did not finish'))) return true;
        const prompt = thread.find(hasButtons);
        if (prompt) await click(current.url, APPROVER, prompt).catch(() => 0);
        return false;
      },
      120_000,
      500,
    );
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

describe('batch crash trials', () => {
  it(`${TRIALS} seeded kills (seed ${SEED}) during a batch of four: every cluster done once, one summary`, async () => {
    const clean = await trial(0, null);
    expect(clean.problems).toEqual([]);
    const points = killPoints(TRIALS, clean.requests, SEED);
    const results = await inLanes(points, LANES, trial);
    console.log(
      JSON.stringify({
        seed: SEED,
        requestsPerCleanBatch: clean.requests,
        killedOn: results.map((r) => `${r.kill?.request}+${r.kill?.delayMs}ms ${r.killedOn ?? '-'}`),
      }),
    );
    expect(results.filter((r) => r.problems.length)).toEqual([]);
  }, 1_200_000);
});
