/**
 * The outside world misbehaving during a run: Google answering 503/429 at random and Slack rate
 * limiting still end in one successful run with no message twice; a precondition that is not met
 * ends the run with the exact fix in the thread and frees the cluster for the next try.
 */
import { click, roots, slash, threadOf, waitForPrompt, waitForReply } from '../support/flows.js';
import { APPROVER, startHarness, type Harness } from '../support/harness.js';
import { listMemberships } from '../support/inspect.js';

describe('faults during a run', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.stop();
  });

  it('finishes through 503s and 429s from every Google API and the cluster, and a rate-limited Slack, posting nothing twice', async () => {
    h = await startHarness({ scenario: 'default' });
    for (const api of ['gkehub', 'container', 'serviceusage', 'resourcemanager'] as const) {
      h.sim.faults.add({ api, status: 503, times: 2 });
    }
    h.sim.faults.add({ api: 'gkehub', status: 429, times: 1, retryAfterSeconds: 0, method: 'PATCH' });
    h.sim.faults.add({ api: 'kubernetes', status: 503, times: 2, method: 'PATCH' });
    h.sim.slack.rateLimit('chat.postMessage', 2, 1);

    expect((await slash(h.app.url, 'enable cluster proj-a/us-central1/c1 namespaces=shop')).text).toMatch(
      /Queued run/,
    );
    const prompt = await waitForPrompt(h.sim, undefined, 60_000);
    expect(await click(h.app.url, APPROVER, prompt)).toBe(200);
    await waitForReply(h.sim, ':tada: Done.', undefined, 60_000);

    expect(h.sim.faults.fired).toBe(11);
    expect(await listMemberships(h.sim, 'proj-a')).toHaveLength(1);
    const texts = threadOf(h.sim).map((m) => m.text);
    expect(new Set(texts).size).toBe(texts.length);
    expect(roots(h.sim)).toHaveLength(1);
  });

  it('stops at preflight with the exact fix when Workload Identity is off, and frees the cluster', async () => {
    h = await startHarness({ scenario: 'default' });
    const ref = 'proj-b/europe-west1/c2';
    expect((await slash(h.app.url, `enable cluster ${ref}`)).text).toMatch(/Queued run/);
    const failed = await waitForReply(h.sim, ':x: Failed', ref);
    expect(failed.text).toContain('Workload Identity is not enabled on c2');
    expect(failed.text).toContain(
      '*What to do:* gcloud container clusters update c2 --location europe-west1 --project proj-b --workload-pool=proj-b.svc.id.goog',
    );
    expect(failed.text).toContain('WORKLOAD_IDENTITY_DISABLED');
    expect(threadOf(h.sim, ref)[0]!.text).toContain('Failed');
    expect(await listMemberships(h.sim, 'proj-b')).toHaveLength(0);
    // The lock went with the run: a new try is accepted at once.
    expect((await slash(h.app.url, `enable cluster ${ref}`)).text).toMatch(/Queued run/);
  });

  it('stops with the API to enable when Google says SERVICE_DISABLED, without retrying it', async () => {
    h = await startHarness({ scenario: 'default' });
    h.sim.faults.add({
      api: 'gkehub',
      status: 403,
      reason: 'SERVICE_DISABLED',
      service: 'gkehub.googleapis.com',
      times: 100,
    });
    expect((await slash(h.app.url, 'enable cluster proj-a/us-central1/c1')).text).toMatch(/Queued run/);
    const failed = await waitForReply(h.sim, ':x: Failed');
    expect(failed.text).toContain(
      '*What to do:* gcloud services enable gkehub.googleapis.com --project proj-a',
    );
    expect(h.sim.faults.fired).toBe(1);
  });

  it('stops at the step Google refused with the permission it named and the role that grants it, without retrying', async () => {
    h = await startHarness({ scenario: 'default' });
    h.sim.faults.add({
      api: 'gkehub',
      status: 403,
      method: 'POST',
      pathIncludes: '/memberships',
      permission: 'gkehub.memberships.create',
      times: 100,
    });
    expect((await slash(h.app.url, 'enable cluster proj-a/us-central1/c1')).text).toMatch(/Queued run/);
    const failed = await waitForReply(h.sim, ':x: Failed');
    expect(failed.text).toContain("Permission 'gkehub.memberships.create' denied");
    expect(failed.text).toContain(
      "*What to do:* the bot's identity lacks `gkehub.memberships.create`: grant it roles/gkehub.admin on proj-a",
    );
    expect(failed.text).toContain('PERMISSION_DENIED');
    expect(h.sim.faults.fired).toBe(1);
    // The cluster is free again: the next command is queued, not refused as busy.
    expect((await slash(h.app.url, 'enable cluster proj-a/us-central1/c1')).text).toMatch(/Queued run/);
  });

  it("says in the thread that a cluster's API server cannot be reached while it retries, before any change; cancel stops it", async () => {
    h = await startHarness({ scenario: 'default' });
    h.sim.world.breakClusterAccess('proj-a/us-central1/c1', 'unreachable');
    const queued = await slash(h.app.url, 'enable cluster proj-a/us-central1/c1 namespaces=default');
    const runId = /run `(r[0-9a-z]+)`/.exec(queued.text)?.[1] ?? '';
    const retrying = await waitForReply(h.sim, ':hourglass_flowing_sand: *Preflight', undefined, 30_000);
    expect(retrying.text).toContain('did not go through (attempt 2 of 8)');
    expect(retrying.text).toContain("could not reach the cluster's API server at 127.0.0.1:9 (ECONNREFUSED)");
    expect(retrying.text).toContain('authorized networks');
    expect(retrying.text).toMatch(/Trying again in \d+ s/);
    expect(h.sim.requests.mutations()).toEqual([]);
    expect((await slash(h.app.url, `cancel ${runId}`)).text).toContain('Cancelled run');
  });

  it("stops a cluster whose API server's certificate the reported CA did not sign at preflight, before any change, saying why", async () => {
    h = await startHarness({ scenario: 'default' });
    h.sim.world.breakClusterAccess('proj-a/us-central1/c1', 'wrong-ca');
    expect((await slash(h.app.url, 'enable cluster proj-a/us-central1/c1 namespaces=default')).text).toMatch(
      /Queued run/,
    );
    const failed = await waitForReply(h.sim, ':x: Failed', undefined, 30_000);
    expect(failed.text).toContain('Failed at *Preflight');
    expect(failed.text).toMatch(
      /the server's certificate does not check out \((CERT_SIGNATURE_FAILURE|UNABLE_TO_VERIFY_LEAF_SIGNATURE)\)/,
    );
    expect(failed.text).toContain('FAILED_PRECONDITION');
    expect(h.sim.requests.mutations()).toEqual([]);
  });
});
