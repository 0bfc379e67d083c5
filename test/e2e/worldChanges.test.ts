/**
 * The world changes under a run: someone else edits the cluster's labels between meshops' read and
 * its write, Google ends an operation with an error, the cluster is deleted, the control plane stalls
 * on a condition, a step keeps failing until its last attempt. Each ends as a careful operator would
 * want: the change made once without losing theirs, or the run stopped at once with what happened,
 * what it left behind and what to do, and the cluster free for the next try.
 */
import { click, latestThreadOf, slash, threadOf, waitForPrompt, waitForReply } from '../support/flows.js';
import { waitFor } from '../support/wait.js';
import { APPROVER, CHANNEL, startHarness, type Harness } from '../support/harness.js';
import { getCluster, listMemberships } from '../support/inspect.js';

const C1 = 'proj-a/us-central1/c1';

describe('the world changing under a run', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.stop();
  });

  it("keeps someone else's label when they change the cluster's labels between meshops' read and its write", async () => {
    h = await startHarness({ scenario: 'default' });
    let raced = false;
    h.sim.requests.onArrival((arrival) => {
      // Just before meshops' setResourceLabels lands, another person adds a label: its fingerprint is stale.
      if (raced || arrival.method !== 'POST' || !arrival.path.endsWith(':setResourceLabels')) return;
      raced = true;
      const cluster = h.sim.world.cluster(C1)!;
      cluster.setResourceLabels({ ...cluster.resourceLabels, cost_center: 'cc-42' });
    });
    expect((await slash(h.app.url, `enable cluster ${C1}`)).text).toMatch(/Queued run/);
    await waitForReply(h.sim, ':tada: Done.', undefined, 60_000);

    expect(raced).toBe(true);
    const labels = h.sim.requests.entries().filter((e) => e.path.endsWith(':setResourceLabels'));
    expect(labels.map((e) => e.status)).toEqual([400, 200]);
    expect((await getCluster(h.sim, C1)).resourceLabels).toEqual({
      env: 'dev',
      team: 'platform',
      cost_center: 'cc-42',
      mesh_id: `proj-${h.sim.world.project('proj-a')!.number}`,
    });
  });

  it('stops when Google ends the registration with an error, says so, leaves no membership, and a new try works', async () => {
    h = await startHarness({ scenario: 'default' });
    h.sim.world.operationFaults.add({
      api: 'gkehub',
      verb: 'create',
      error: { code: 13, message: 'Internal error encountered while creating the membership.' },
    });
    expect((await slash(h.app.url, `enable cluster ${C1}`)).text).toMatch(/Queued run/);
    const failed = await waitForReply(h.sim, ':x: Failed', undefined, 30_000);
    expect(failed.text).toContain('Failed at *Register in the fleet*');
    expect(failed.text).toContain(
      'fleet registration failed: Internal error encountered while creating the membership.',
    );
    expect(failed.text).toMatch(
      /\*What to do:\* Google ended operation projects\/proj-a\/locations\/us-central1\/operations\/\S+ with this error and nothing after it was done; running the command again is safe/,
    );
    // Nothing after the registration was attempted.
    expect(h.sim.requests.mutations().map((m) => `${m.method} ${m.path.split('/').pop()}`)).toEqual([
      'POST memberships',
    ]);
    expect(await listMemberships(h.sim, 'proj-a')).toEqual([]);

    expect((await slash(h.app.url, `enable cluster ${C1}`)).text).toMatch(/Queued run/);
    await waitFor(
      'the second run to finish',
      () => latestThreadOf(h.sim, C1).find((m) => m.text.startsWith(':tada: Done.')),
      60_000,
    );
    expect(await listMemberships(h.sim, 'proj-a')).toHaveLength(1);
  });

  it('stops at once when the cluster is deleted while the run waits for approval, naming the membership it left', async () => {
    h = await startHarness({ scenario: 'default' });
    expect((await slash(h.app.url, `enable cluster ${C1} namespaces=shop`)).text).toMatch(/Queued run/);
    const prompt = await waitForPrompt(h.sim, undefined, 60_000);
    await h.sim.world.deleteCluster(C1);
    const clickedAt = Date.now();
    expect(await click(h.app.url, APPROVER, prompt)).toBe(200);

    const failed = await waitForReply(h.sim, ':x: Failed', undefined, 30_000);
    // The first failed call is enough: no minutes of retries against an API server that is gone.
    expect(Date.now() - clickedAt).toBeLessThan(15_000);
    expect(failed.text).toContain(
      'cluster proj-a/us-central1/c1 no longer exists: it was deleted while this run was at “Label namespaces”',
    );
    expect(failed.text).toContain(
      '*What to do:* its fleet membership projects/proj-a/locations/us-central1/memberships/c1 is left behind: remove it with `gcloud container fleet memberships delete c1 --location us-central1 --project proj-a`',
    );
    expect(threadOf(h.sim).filter((m) => m.text.startsWith(':hourglass_flowing_sand:'))).toEqual([]);
    const [membership] = await listMemberships(h.sim, 'proj-a');
    expect(membership?.endpoint?.gkeCluster?.clusterMissing).toBe(true);
  });

  it('notices a cluster deleted while its control plane provisions, instead of polling to the timeout', async () => {
    h = await startHarness({ scenario: 'default' });
    h.sim.world.setMeshRuntime(C1, { behaviour: 'stall' });
    expect((await slash(h.app.url, `enable cluster ${C1}`)).text).toMatch(/Queued run/);
    await waitForReply(h.sim, ':satellite: Control plane', undefined, 60_000);
    await h.sim.world.deleteCluster(C1);
    const failed = await waitForReply(h.sim, ':x: Failed', undefined, 30_000);
    expect(failed.text).toContain(
      'no longer exists: it was deleted while this run was at “Control plane ACTIVE”',
    );
    expect(failed.text).toContain('gcloud container fleet memberships delete c1');
  });

  it('shows the condition a stalled control plane reports, and goes on once it is fixed', async () => {
    h = await startHarness({ scenario: 'default' });
    h.sim.world.setMeshRuntime(C1, { behaviour: 'stall' });
    h.sim.world.degradeMesh(C1);
    expect((await slash(h.app.url, `enable cluster ${C1}`)).text).toMatch(/Queued run/);
    const stalled = await waitForReply(h.sim, ':satellite: Control plane: *STALLED*', undefined, 60_000);
    expect(stalled.text).toContain('MESH_IAM_PERMISSION_DENIED');
    expect(stalled.text).toContain('roles/anthosservicemesh.serviceAgent');
    expect(stalled.text).toContain(
      'https://cloud.google.com/service-mesh/docs/troubleshooting/troubleshoot-with-feature-state-condition#mesh_iam_permission_denied',
    );
    // The operator grants the role; Google retries and the control plane comes up.
    h.sim.world.recoverMesh(C1);
    await waitForReply(h.sim, ':tada: Done.', undefined, 60_000);
  });

  it('fails a control plane stalled past the provisioning timeout with its state and condition, and frees the cluster', async () => {
    h = await startHarness(
      { scenario: 'default' },
      { config: { timeouts: { provisioningMs: 3000, operationMs: 600_000, verifyMs: 600_000 } } },
    );
    h.sim.world.setMeshRuntime(C1, { behaviour: 'stall' });
    h.sim.world.degradeMesh(C1);
    expect((await slash(h.app.url, `enable cluster ${C1}`)).text).toMatch(/Queued run/);
    const failed = await waitForReply(h.sim, ':x: Failed', undefined, 60_000);
    expect(failed.text).toContain('Failed at *Control plane ACTIVE*');
    expect(failed.text).toContain('Control plane still STALLED after 3 s');
    expect(failed.text).toContain(
      '(REVISION_STALLED: Provisioning of asm-managed has stalled; this will be retried.; condition MESH_IAM_PERMISSION_DENIED: Service Mesh Service Agent is missing the required IAM role roles/anthosservicemesh.serviceAgent on the fleet project.)',
    );
    expect(failed.text).toContain(
      '*What to do:* fix what the condition names (https://cloud.google.com/service-mesh/docs/troubleshooting/troubleshoot-with-feature-state-condition#mesh_iam_permission_denied), then run the command again',
    );
    expect((await slash(h.app.url, `enable cluster ${C1}`)).text).toMatch(/Queued run/);
  });

  it('fails a step that keeps failing with a retryable error after its last attempt, saying how long it tried', async () => {
    h = await startHarness(
      { scenario: 'default' },
      { config: { worker: { attempts: 3, retryDelayMs: 100 } } },
    );
    h.sim.world.breakClusterAccess(C1, 'unreachable');
    expect((await slash(h.app.url, `enable cluster ${C1} namespaces=default`)).text).toMatch(/Queued run/);
    const failed = await waitForReply(h.sim, ':x: Failed', undefined, 60_000);
    expect(failed.text).toContain('Failed at *Preflight');
    expect(failed.text).toContain('(still failing after 3 attempts over');
    expect(failed.text).toContain("could not reach the cluster's API server at 127.0.0.1:9");
    expect(h.sim.requests.mutations()).toEqual([]);
    // Attempt 2 said it would try again; the last one did not.
    const retrying = threadOf(h.sim).filter((m) => m.text.startsWith(':hourglass_flowing_sand:'));
    expect(retrying.map((m) => /attempt (\d) of 3/.exec(m.text)?.[1])).toEqual(['2']);
    expect((await slash(h.app.url, `enable cluster ${C1}`)).text).toMatch(/Queued run/);
  });

  it("goes on when someone deletes the run's root message: the checklist comes back as one reply that keeps updating", async () => {
    h = await startHarness({ scenario: 'default' });
    expect((await slash(h.app.url, `enable cluster ${C1}`)).text).toMatch(/Queued run/);
    await waitForReply(h.sim, ':mag:', undefined, 30_000);
    const [root] = threadOf(h.sim);
    h.sim.slack.deleteMessage(CHANNEL, root!.ts);
    await waitForReply(h.sim, ':tada: Done.', undefined, 60_000);

    const thread = threadOf(h.sim);
    expect(thread[0]).toMatchObject({ ts: root!.ts, subtype: 'tombstone' });
    const checklists = thread.filter((m) => m.text.startsWith('Enable Cloud Service Mesh on'));
    expect(checklists).toHaveLength(1);
    await waitFor('the checklist reply to show the end', () =>
      /Succeeded|Done/.test(threadOf(h.sim).find((m) => m.ts === checklists[0]!.ts)?.text ?? ''),
    );
  });
});
