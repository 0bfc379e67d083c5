/**
 * A batch dry run's summary stays one Slack message whatever the batch's size: within 50 blocks and
 * 3,000 characters a section, blocked clusters first, the rest counted with where to find them.
 */
import { batchDryRunMessage } from '../../src/slack/renderBatchDryRun.js';
import { startRun } from '../../src/workflows/registry.js';
import type { EnableBatchRun, RehearsedMember } from '../../src/workflows/run.js';

function batchOf(size: number, blockedEvery: number): EnableBatchRun {
  const run = startRun('enable-batch', {
    id: 'rbatch',
    now: 0,
    requester: { userId: 'UREQUESTER', channelId: 'C0MESH' },
    cluster: { project: 'proj-a', location: '-', name: 'rbatch' },
    options: {
      namespaces: ['default'],
      restart: true,
      targets: ['proj-a/-/prod-*'],
      labels: {},
      responseUrl: '',
    },
    dryRun: true,
  }) as EnableBatchRun;
  const refs = Array.from({ length: size }, (_, i) => `proj-a/us-central1/prod-${i}`);
  const rehearsed: RehearsedMember[] = refs.map((ref, i) =>
    i % blockedEvery === 0
      ? {
          ref,
          runId: `rbatchc${i}`,
          status: 'failed',
          changes: 0,
          pods: 0,
          restarts: 0,
          codes: ['WORKLOAD_IDENTITY_DISABLED'],
          step: 'preflight',
          message: `Workload Identity is not enabled on prod-${i} (workload pool is unset)`,
        }
      : { ref, runId: `rbatchc${i}`, status: 'succeeded', changes: 6, pods: 2, restarts: 2 },
  );
  return {
    ...run,
    status: 'failed',
    facts: {
      resolved: refs,
      members: refs.map((ref, i) => ({ ref, runId: `rbatchc${i}` })),
      tally: { byStep: {}, failed: [], succeeded: 0, planned: [], rehearsed },
    },
  };
}

describe('a batch dry run’s summary', () => {
  it('counts and names every cluster of a small batch, blocked ones first', () => {
    const message = batchDryRunMessage(batchOf(4, 3));
    expect(message.text).toBe(
      'Dry run of /mesh enable cluster proj-a/-/prod-* namespaces=default: 4 cluster(s), 2 would proceed, 2 blocked, nothing changed',
    );
    const text = JSON.stringify(message.blocks);
    expect(text).toContain('*4 cluster(s)*: *2 would proceed* (12 change(s) in all), *2 blocked*.');
    expect(text).toContain('Blocked by: `WORKLOAD_IDENTITY_DISABLED` (2 cluster(s))');
    expect(text.indexOf('prod-3`')).toBeLessThan(text.indexOf('prod-1`'));
    expect(text).not.toContain('more cluster(s)');
  });

  it('keeps a batch of 1,000 in one message within Slack’s limits, the rest counted', () => {
    const message = batchDryRunMessage(batchOf(1000, 10));
    const blocks = message.blocks ?? [];
    expect(blocks.length).toBeLessThanOrEqual(50);
    for (const block of blocks)
      if (block.type === 'section') expect(block.text!.text.length).toBeLessThanOrEqual(3000);
    const text = JSON.stringify(blocks);
    expect(text).toContain('*1000 cluster(s)*: *900 would proceed*');
    expect(text).toMatch(/…and \d+ more cluster\(s\): `\/mesh status rbatch` lists every one/);
    // Every blocked cluster is listed before any that would proceed.
    expect(text).toContain('prod-990`');
  });

  it('counts the blocked clusters left out when more are blocked than the message can list', () => {
    const message = batchDryRunMessage(batchOf(1000, 2));
    const text = JSON.stringify(message.blocks ?? []);
    const shown = (text.match(/• :(construction|white_check_mark): /g) ?? []).length;
    const left = Number(/…and (\d+) more cluster\(s\)/.exec(text)?.[1]);
    expect(shown + left).toBe(1000);
    // 500 blocked, listed first: every one not shown is counted as not proceeding.
    expect(text).toContain(`…and ${left} more cluster(s) (${500 - shown} of them not proceeding)`);
    expect(text).not.toContain(':white_check_mark:');
  });
});
