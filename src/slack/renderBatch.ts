/**
 * Block Kit for a batch (`enable-batch`): the resolved list its requester confirms, the root
 * message's live table of its runs, and the one approval prompt's per-cluster summary. Whatever the
 * size of the batch, each stays within Slack's limits (50 blocks, 3,000 characters per section):
 * the first lines while they fit, then a count and `/mesh status BATCH_ID` for the rest.
 */
import type { KnownBlock } from '@slack/web-api';
import type { EnableBatchRun } from '../workflows/run.js';

export const CONFIRM_ACTION = 'batch_confirm';
export const DISCARD_ACTION = 'batch_discard';

/** Room for the lines of one list in a section, so the section stays within 3,000 characters. */
const LINES_BUDGET = 2400;

/** Lines while they fit in `budget` characters, then one that says how many more and where they are. */
export function fitted(lines: string[], more: (rest: number) => string, budget = LINES_BUDGET): string {
  const kept: string[] = [];
  let used = 0;
  for (const [index, line] of lines.entries()) {
    if (used + line.length + 1 > budget) {
      kept.push(more(lines.length - index));
      break;
    }
    kept.push(line);
    used += line.length + 1;
  }
  return kept.join('\n');
}

function section(text: string): KnownBlock {
  return { type: 'section', text: { type: 'mrkdwn', text } };
}

function filters(run: EnableBatchRun): string {
  const labels = Object.entries(run.options.labels).map(([k, v]) => `\`label:${k}=${v}\``);
  return [...run.options.targets.map((t) => `\`${t}\``), ...labels].join(' ');
}

function options(run: EnableBatchRun): string {
  const ns = run.options.namespaces.length ? run.options.namespaces.join(', ') : 'none';
  return `namespaces: ${ns} · restart: ${run.options.restart}`;
}

/** The resolved list, for the requester only, with Confirm and Discard. */
export function resolvedListMessage(run: EnableBatchRun): { text: string; blocks: KnownBlock[] } {
  const resolved = run.facts.resolved ?? [];
  const unmatched = run.facts.unmatched ?? [];
  const list = fitted(
    resolved.map((ref) => `• \`${ref}\``),
    (rest) => `• …and ${rest} more: \`/mesh status ${run.id}\` lists every one`,
  );
  const blocks: KnownBlock[] = [
    section(
      `:mag: ${filters(run)} matched *${resolved.length} cluster(s)*. Confirm to register them in the fleet, turn on the managed mesh and plan sidecar injection (${options(run)}); one approval for the whole batch comes before any namespace is touched.`,
    ),
    section(list),
  ];
  const notes = [`Batch \`${run.id}\``];
  if (unmatched.length) notes.push(`Matched nothing: ${unmatched.map((t) => `\`${t}\``).join(', ')}`);
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: notes.join(' · ') }] });
  blocks.push({
    type: 'actions',
    block_id: `batch:${run.id}`,
    elements: [
      {
        type: 'button',
        action_id: CONFIRM_ACTION,
        style: 'primary',
        text: { type: 'plain_text', text: `Start ${resolved.length} runs` },
        value: run.id,
      },
      {
        type: 'button',
        action_id: DISCARD_ACTION,
        text: { type: 'plain_text', text: 'Discard' },
        value: run.id,
      },
    ],
  });
  return { text: `${resolved.length} clusters matched: confirm to start`, blocks };
}

const dryRunEnds: Record<string, string> = { succeeded: 'would proceed', failed: 'blocked' };

/** The root message's table: how many runs are at which step, and which failed, by name. */
export function batchTable(run: EnableBatchRun): string {
  const tally = run.facts.tally;
  const members = run.facts.members;
  if (!members) {
    const resolved = run.facts.resolved;
    return resolved ? `${resolved.length} cluster(s) matched ${filters(run)}` : `Resolving ${filters(run)}…`;
  }
  const started = members.filter((m) => m.runId).length;
  const lines = [
    `*${started} ${run.dryRun ? 'dry run(s)' : 'run(s)'}*${members.length > started ? `, ${members.length - started} cluster(s) busy with another run` : ''}`,
  ];
  // A dry run that succeeded is a cluster a real run would take on; one that failed, a blocker.
  const shown = (where: string) => (run.dryRun ? (dryRunEnds[where] ?? where) : where);
  for (const [where, count] of Object.entries(tally?.byStep ?? {}).sort((a, b) => b[1] - a[1])) {
    lines.push(`• ${shown(where)}: ${count}`);
  }
  const failed = tally?.failed ?? [];
  if (failed.length) {
    lines.push(
      run.dryRun ? `*Blocked (${failed.length}):*` : `*Did not finish (${failed.length}):*`,
      fitted(
        failed.map((f) => `• \`${f.ref}\` (\`${f.runId}\`): ${f.message.slice(0, 160)}`),
        (rest) => `• …and ${rest} more: \`/mesh status ${run.id}\``,
        1500,
      ),
    );
  }
  return lines.join('\n');
}

/** What the batch's approval asks for, per cluster, within one section. */
export function batchApprovalSummary(run: EnableBatchRun): string {
  const planned = run.facts.tally?.planned ?? [];
  const pods = planned.reduce((sum, p) => sum + p.pods, 0);
  const restarts = planned.reduce((sum, p) => sum + p.restarts, 0);
  const head = `*Sidecar injection on ${planned.length} cluster(s)* (batch \`${run.id}\`)\nEach: the managed mesh's injection label on the namespaces below · ${run.options.restart ? `${restarts} of ${pods} pod(s) will restart` : 'no restart (restart=false)'}`;
  const lines = planned.map(
    (p) => `• \`${p.ref}\`: ${p.namespaces.map((n) => `\`${n}\``).join(', ')} — ${p.pods} pod(s)`,
  );
  return `${head}\n${fitted(lines, (rest) => `• …and ${rest} more cluster(s): \`/mesh status ${run.id}\` shows every plan`, 2200)}`;
}

export function batchOptions(run: EnableBatchRun): string {
  return `${filters(run)} · ${options(run)}`;
}
