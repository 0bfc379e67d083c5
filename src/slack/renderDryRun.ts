/**
 * A dry run's plan in Block Kit: every change a real run would make, call by call (method, path, API
 * and what it changes), in step order with what it would wait for; the labels it would set and
 * remove and the pods that would restart; the blocker that stopped it. Posted once, as the dry run's
 * last message in its thread; `/mesh status RUN_ID` shows it whole.
 */
import type { KnownBlock } from '@slack/web-api';
import type { MessageContent } from '../store/messages.js';
import { workflowOf } from '../workflows/registry.js';
import type { RunRecord } from '../workflows/run.js';
import { MAX_BLOCKS, packed, planLine, section } from './blocks.js';
import { callLine, commandOf } from './planCalls.js';
import { failureLines, labelChange, stepTitle, truncate, whoMayApprove } from './render.js';

/** Step by step, in the workflow's order: the calls each would make and what it would wait for. */
function stepLines(run: RunRecord): string[] {
  const plan = run.dryRun;
  if (!plan) return [];
  const { order, titles } = workflowOf(run.kind);
  const lines: string[] = [];
  for (const step of order) {
    const calls = plan.calls.filter((c) => c.step === step);
    const waits = plan.waits.filter((w) => w.step === step);
    const asks = plan.approval?.step === step ? plan.approval : undefined;
    if (!calls.length && !waits.length && !asks) continue;
    lines.push(`*${titles[step] ?? step}*`);
    lines.push(...calls.map(callLine));
    for (const wait of waits)
      lines.push(
        `• :hourglass_flowing_sand: would wait for this${wait.detail ? ` (now: ${wait.detail})` : ''}`,
      );
    if (asks)
      lines.push(`• :raised_hand: would ask for approval. ${whoMayApprove(asks, run.requester.userId)}`);
  }
  if (plan.stopped) {
    lines.push(
      `*${titles[plan.stopped.step] ?? plan.stopped.step}*`,
      `• :heavy_minus_sign: not planned, and the steps after it neither: ${plan.stopped.reason}`,
    );
  }
  return lines;
}

/** The labels the run would set and remove, and for each namespace the pods and workloads that would restart. */
function injectionLines(run: RunRecord): string[] {
  const plan = run.facts.plan;
  if (!plan) return [];
  const pods = plan.namespaces.reduce((sum, ns) => sum + ns.pods, 0);
  const restarts = plan.namespaces.filter((ns) => !ns.settled).reduce((sum, ns) => sum + ns.pods, 0);
  const restart = run.options.restart
    ? `${restarts} of ${pods} pod(s) would restart`
    : 'no restart (restart=false): pods change when they next restart';
  return [
    `*Sidecar injection*: ${labelChange(plan)} on ${plan.namespaces.length} namespace(s) (${plan.reason}); ${restart}`,
    ...plan.namespaces.map(planLine),
  ];
}

/** Every line of the plan: the steps' calls and waits, then the injection. */
export function dryRunLines(run: RunRecord): string[] {
  return [...stepLines(run), ...injectionLines(run)];
}

function heading(run: RunRecord): string {
  const command = `\`${commandOf(run)}\``;
  const plan = run.dryRun ?? { calls: [], waits: [] };
  const changes = plan.calls.length
    ? `A real run would make *${plan.calls.length} change(s)*, below in order.`
    : 'A real run would change nothing: it is all as asked already.';
  switch (run.status) {
    case 'failed': {
      const { reason, details } = failureLines(run.outcome);
      const found = run.outcome?.blockers?.length ?? 1;
      return [
        `:construction: *Dry run of ${command} found ${found === 1 ? 'a blocker' : `${found} blockers`}* at *${stepTitle(run)}*: ${reason}`,
        ...details,
        'Nothing was changed. A real run would stop there too; the steps after it were not planned.',
      ]
        .filter(Boolean)
        .join('\n');
    }
    case 'cancelled':
      return `:octagonal_sign: *Dry run of ${command}* ${run.outcome?.message ?? 'cancelled'} Nothing was changed; what it had planned so far is below.`;
    default:
      if (plan.stopped) {
        const { titles } = workflowOf(run.kind);
        return [
          `:test_tube: *Dry run of ${command}: nothing was changed.* Every read and check it could make passed, up to *${titles[plan.stopped.step] ?? plan.stopped.step}*, which it could not plan before the changes above are made (why below); a real run would not stop there.`,
          plan.calls.length
            ? `Up to there, a real run would make *${plan.calls.length} change(s)*, below in order.`
            : '',
        ]
          .filter(Boolean)
          .join('\n');
      }
      return `:test_tube: *Dry run of ${command}: nothing was changed.* Every read and check passed. ${changes}`;
  }
}

function blockersFound(run: RunRecord): string {
  const found = run.outcome?.blockers?.length ?? 1;
  return found === 1 ? 'a blocker found' : `${found} blockers found`;
}

/** The dry run's last message: its plan (see the module comment), cut to fit one Slack message. */
export function dryRunPlanMessage(run: RunRecord): MessageContent {
  const tail: KnownBlock = {
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: truncate(
          `Dry run \`${run.id}\` · \`/mesh status ${run.id}\` shows the whole plan · ${run.status === 'failed' ? 'once the blocker is fixed, dry-run again or do it' : 'to do it'}: \`${commandOf(run)}\``,
        ),
      },
    ],
  };
  const { blocks, left } = packed(dryRunLines(run), MAX_BLOCKS - 3);
  const more = left
    ? [section(`…and ${left} more line(s) of the plan: \`/mesh status ${run.id}\` lists them.`)]
    : [];
  const changes = run.dryRun?.calls.length ?? 0;
  return {
    text: `Dry run of ${commandOf(run)}: ${run.status === 'failed' ? blockersFound(run) : `${run.dryRun?.stopped ? 'at least ' : ''}${changes} change(s) planned`}, nothing changed`,
    blocks: [section(heading(run)), ...blocks, ...more, tail],
  };
}
