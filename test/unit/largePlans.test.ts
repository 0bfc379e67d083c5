/**
 * Runs over many namespaces: accepted up to MAX_NAMESPACES, the approval prompt summarised within
 * Slack's Block Kit limits (50 blocks, 3,000 characters a section), and `status RUN_ID` listing all.
 */
import type { KnownBlock } from '@slack/web-api';
import { namespaceNames } from '../../src/handlers/grammar.js';
import { parseMeshCommand } from '../../src/handlers/registry.js';
import { approvalMessage, rootMessage } from '../../src/slack/render.js';
import { runStatusMessage } from '../../src/slack/status.js';
import { startRun } from '../../src/workflows/registry.js';
import type { InjectionPlan, RunRecord } from '../../src/workflows/run.js';
import {
  MAX_NAMESPACES,
  resolveNamespaces,
  selectNamespaces,
} from '../../src/workflows/steps/namespaceSelection.js';

const names = (n: number) => Array.from({ length: n }, (_, i) => `team-${String(i).padStart(4, '0')}-apps`);

function plannedRun(count: number): RunRecord {
  const namespaces = names(count);
  const run = startRun('inject', {
    id: 'rbig0001',
    now: 1_700_000_000_000,
    requester: { userId: 'UREQ', channelId: 'C1' },
    cluster: { project: 'proj-a', location: 'us-central1', name: 'c1' },
    options: { namespaces, restart: true },
  });
  const plan: InjectionPlan = {
    mode: 'inject',
    set: { key: 'istio-injection', value: 'enabled' },
    remove: ['istio.io/rev'],
    reason: 'the managed default',
    namespaces: namespaces.map((name) => ({
      name,
      currentLabels: {},
      workloads: [
        { kind: 'Deployment', name: `${name}-frontend`, replicas: 2 },
        { kind: 'Deployment', name: `${name}-backend`, replicas: 1 },
      ],
      pods: 3,
      podDisruptionBudgets: 1,
      settled: false,
    })),
  };
  return {
    ...run,
    status: 'awaiting-approval',
    facts: { ...run.facts, plan },
    approval: {
      requestedAt: 0,
      remindAt: 0,
      expiresAt: 1_700_086_400_000,
      reminded: false,
      planHash: 'abc123def456',
      required: 1,
      approvers: ['UAPP'],
      approvals: [],
    },
  };
}

/** Every text a message shows, block by block. */
function texts(blocks: KnownBlock[] = []): string[] {
  return blocks.flatMap((block) => {
    const b = block as { text?: { text: string }; elements?: Array<{ text?: unknown }> };
    return [b.text?.text ?? '', ...(b.elements ?? []).map((e) => (typeof e.text === 'string' ? e.text : ''))];
  });
}

function expectWithinSlackLimits(blocks: KnownBlock[] = []): void {
  expect(blocks.length).toBeLessThanOrEqual(50);
  for (const text of texts(blocks)) expect(text.length).toBeLessThanOrEqual(3000);
}

describe('runs over many namespaces', () => {
  it(`accepts up to ${MAX_NAMESPACES} namespaces and refuses more with what to do`, () => {
    expect(namespaceNames(names(MAX_NAMESPACES))).toHaveLength(MAX_NAMESPACES);
    expect(namespaceNames(names(MAX_NAMESPACES + 1))).toEqual({
      invalid: `${MAX_NAMESPACES + 1} namespaces is more than one run takes (at most ${MAX_NAMESPACES}): split them over several runs`,
    });
  });

  it('a command may name namespaces by pattern, so a team with hundreds need not spell them', () => {
    const parsed = parseMeshCommand('inject proj-a/us-central1/c1 team-* default');
    expect('invalid' in parsed ? parsed : parsed.command).toMatchObject({
      namespaces: ['team-*', 'default'],
    });
    const bad = parseMeshCommand('inject proj-a/us-central1/c1 team-?');
    expect('invalid' in bad ? bad.invalid : '').toContain('or a pattern such as `team-*`');
  });

  it('a pattern selects existing namespaces but never a system one; names and patterns that select nothing are named', () => {
    const existing = ['kube-system', 'istio-system', 'gke-managed-x', 'default', 'team-b', 'team-a', 'shop'];
    expect(selectNamespaces(['*'], existing)).toEqual({
      names: ['default', 'shop', 'team-a', 'team-b'],
      missing: [],
    });
    expect(selectNamespaces(['shop', 'team-*', 'kube-system'], existing)).toEqual({
      names: ['shop', 'team-a', 'team-b', 'kube-system'],
      missing: [],
    });
    expect(() =>
      resolveNamespaces(['nosuch-*', 'shopp', 'shop'], existing, 'c1', '; nothing was changed'),
    ).toThrow('namespaces `nosuch-*`, `shopp` do not exist or match nothing in c1; nothing was changed');
    expect(() => resolveNamespaces(['*'], names(MAX_NAMESPACES + 5), 'c1')).toThrow(
      `\`*\` select ${MAX_NAMESPACES + 5} namespaces; one run takes at most ${MAX_NAMESPACES}`,
    );
  });

  it('the approval prompt of 400 namespaces stays within Block Kit limits, counts what it leaves out and says where the rest is', () => {
    const run = plannedRun(400);
    const { blocks } = approvalMessage(run);
    expectWithinSlackLimits(blocks);
    const summary = texts(blocks).join('\n');
    const shown = names(400).filter((n) => summary.includes(`\`${n}\``));
    expect(shown.length).toBeGreaterThan(10);
    expect(shown).toEqual(names(shown.length));
    expect(summary).toContain(
      `…and ${400 - shown.length} more namespace(s) with ${(400 - shown.length) * 3} pod(s): \`/mesh status rbig0001\` lists every one.`,
    );
    expect(summary).toContain('1200 of 1200 pod(s) will restart');
    // The buttons are still there: the prompt was summarised, not cut.
    expect(JSON.stringify(blocks)).toContain('approval_approve');
  });

  it('a small plan is shown whole, with no pointer elsewhere', () => {
    const summary = texts(approvalMessage(plannedRun(5)).blocks).join('\n');
    for (const n of names(5)) expect(summary).toContain(`\`${n}\``);
    expect(summary).not.toContain('more namespace(s)');
  });

  it('the root message names a few namespaces and counts the rest', () => {
    const context = texts(rootMessage(plannedRun(400)).blocks).join('\n');
    expect(context).toContain('`team-0000-apps`'.replace(/`/g, ''));
    expect(context).toContain('and 390 more');
  });

  it(`status RUN_ID lists every one of ${MAX_NAMESPACES} namespaces with its workloads, within Block Kit limits`, () => {
    const { blocks } = runStatusMessage(plannedRun(MAX_NAMESPACES), 'https://slack.example/archives/C1/p1');
    expectWithinSlackLimits(blocks);
    const all = texts(blocks).join('\n');
    for (const n of names(MAX_NAMESPACES))
      expect(all).toContain(`• \`${n}\`: 3 pod(s), 1 PodDisruptionBudget(s)`);
    expect(all).toContain('Deployment team-0999-apps-backend');
    expect(all).toContain('*Plan* `abc123def456`');
    expect(all).toContain('<https://slack.example/archives/C1/p1|Open the run');
    expect(all).not.toContain('do not fit');
  });

  it('status RUN_ID parses as a run, but an alias of that shape stays a cluster', () => {
    const run = parseMeshCommand('status rmx4jskw103dba6');
    expect('invalid' in run ? run : run.command).toEqual({ runId: 'rmx4jskw103dba6' });
    const alias = parseMeshCommand('status rprod1', { rprod1: 'proj-a/us-central1/c1' });
    expect('invalid' in alias ? alias : alias.command).toEqual({
      cluster: { project: 'proj-a', location: 'us-central1', name: 'c1' },
    });
  });
});
