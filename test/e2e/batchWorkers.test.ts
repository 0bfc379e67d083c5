/**
 * One batch, two worker processes on one Redis (and a web process that only answers Slack): both
 * take part, and every cluster is registered, added to the feature, labelled and injected exactly
 * once. Real processes, real HTTP and Redis.
 */
import { startSim, type ClusterSpec, type Sim } from '../../src/sim/index.js';
import { CONFIRM_ACTION } from '../../src/slack/renderBatch.js';
import { processEnv, startMeshopsProcess, type MeshopsProcess } from '../support/child.js';
import { ask, click, hasButtons, roots } from '../support/flows.js';
import { APPROVER, CHANNEL, REQUESTER } from '../support/harness.js';
import { waitFor } from '../support/wait.js';

const CLUSTERS = 24;

const clusters: ClusterSpec[] = Array.from({ length: CLUSTERS }, (_, i) => ({
  project: i % 2 ? 'twin-b' : 'twin-a',
  location: 'us-central1',
  name: `c${i}`,
  releaseChannel: 'REGULAR',
  namespaces: [{ name: 'default', deployments: [{ name: 'web', replicas: 1 }] }, { name: 'istio-system' }],
}));

function finishedIn(p: MeshopsProcess): number {
  return p.output
    .join('')
    .split('\n')
    .filter((line) => line.includes('"msg":"run finished"')).length;
}

describe('one batch shared by two worker processes', () => {
  let sim: Sim;
  const processes: MeshopsProcess[] = [];
  afterAll(async () => {
    for (const p of processes) await p.kill('SIGTERM');
    await sim?.close();
  });

  it('both workers run part of it, and no cluster is done twice', async () => {
    sim = await startSim({
      speed: 100,
      scenario: {
        projects: [
          { id: 'twin-a', number: '310000000001' },
          { id: 'twin-b', number: '310000000002' },
        ],
        clusters,
      },
    });
    const env = processEnv(sim, { worker: { concurrency: 4 } });
    const [web, a, b] = await Promise.all([
      startMeshopsProcess({ ...env, MESHOPS_ROLE: 'web' }),
      startMeshopsProcess({ ...env, MESHOPS_ROLE: 'worker', SLACK_SIGNING_SECRET: '' }),
      startMeshopsProcess({ ...env, MESHOPS_ROLE: 'worker', SLACK_SIGNING_SECRET: '' }),
    ]);
    processes.push(web, a, b);

    const list = await ask(
      web.url,
      sim,
      'enable cluster twin-a/-/* twin-b/us-central1/c* namespaces=default',
    );
    expect(JSON.stringify(list.blocks)).toContain(`*${CLUSTERS} cluster(s)*`);
    expect(await click(web.url, REQUESTER, list, CONFIRM_ACTION)).toBe(200);
    const prompt = await waitFor(
      'the batch approval prompt',
      () => sim.slack.messages(CHANNEL).find((m) => m.thread_ts && hasButtons(m)),
      90_000,
    );
    expect(JSON.stringify(prompt.blocks)).toContain(`Sidecar injection on ${CLUSTERS} cluster(s)`);
    expect(await click(web.url, APPROVER, prompt)).toBe(200);
    const [root] = roots(sim);
    await waitFor(
      'the batch summary',
      () =>
        sim.slack
          .thread(CHANNEL, root!.ts)
          .find((m) => m.text.includes(`${CLUSTERS} of ${CLUSTERS} cluster(s) on Cloud Service Mesh`)),
      120_000,
    );

    // Both worker processes finished runs; the web process none. Every run (and the batch) ended once.
    await waitFor('the last run finished', () => finishedIn(a) + finishedIn(b) === CLUSTERS + 1);
    expect(finishedIn(a)).toBeGreaterThan(0);
    expect(finishedIn(b)).toBeGreaterThan(0);
    expect(finishedIn(web)).toBe(0);

    // Each cluster: one membership created, one label call, one namespace label, one rollout restart.
    for (const c of clusters) {
      const ref = `${c.project}/${c.location}/${c.name}`;
      const memberships = sim.requests
        .entries({ api: 'gkehub', method: 'POST', pathIncludes: `/projects/${c.project}/` })
        .filter((e) => new URLSearchParams(e.query).get('membershipId') === c.name);
      const labels = sim.requests.entries({
        api: 'container',
        method: 'POST',
        pathIncludes: `/clusters/${c.name}:setResourceLabels`,
      });
      const kube = (path: string) =>
        sim.requests
          .entries({ api: 'kubernetes', method: 'PATCH', cluster: ref })
          .filter((e) => e.path === path).length;
      expect({
        ref,
        memberships: memberships.length,
        labels: labels.filter((e) => e.path.includes(`/${c.project}/`)).length,
      }).toEqual({ ref, memberships: 1, labels: 1 });
      expect({
        ref,
        namespace: kube('/api/v1/namespaces/default'),
        restart: kube('/apis/apps/v1/namespaces/default/deployments/web'),
      }).toEqual({
        ref,
        namespace: 1,
        restart: 1,
      });
    }
    expect(roots(sim)).toHaveLength(1);
  }, 240_000);
});
