/**
 * A batch's dry run in Block Kit: its one summary (how many clusters, how many would go on, how many
 * a blocker stops and by which codes), then one line per cluster, blocked ones first, with the dry run
 * whose whole plan `/mesh status RUN_ID` shows. Posted once, as the batch's last message in its thread:
 * the members post nothing of their own, so a batch of a thousand is still a handful of Slack calls.
 */
import type { KnownBlock } from '@slack/web-api';
import type { MessageContent } from '../store/messages.js';
import { enableClusterWorkflow } from '../workflows/enableCluster.js';
import type { BatchMember, EnableBatchRun, RehearsedMember } from '../workflows/run.js';
import { packed, section } from './blocks.js';
import { commandOf } from './planCalls.js';
import { truncate } from './render.js';

/** The per-cluster lines take at most this many sections (about 25 clusters each, some 24,000 characters in all, well within what one message carries); status lists the rest. */
const CLUSTER_SECTIONS = 8;

/** A finished member's outcome in one line. */
export function rehearsedLine(member: RehearsedMember): string {
  const where = `\`${member.ref}\` (\`${member.runId}\`)`;
  if (member.status === 'succeeded') {
    const restarts = member.pods ? `, ${member.restarts} of ${member.pods} pod(s) would restart` : '';
    return `• :white_check_mark: ${where} would proceed: ${member.changes} change(s)${restarts}`;
  }
  const codes = member.codes?.length ? ` ${member.codes.map((c) => `\`${c}\``).join(', ')}` : '';
  // The step's short title ("Preflight", not what it checks): a thousand lines have to fit.
  const step = member.step
    ? (enableClusterWorkflow.titles[member.step] ?? member.step).replace(/ \(.*\)$/, '')
    : '';
  const icon = member.status === 'failed' ? ':construction:' : ':octagonal_sign:';
  const what = member.status === 'failed' ? 'blocked' : member.status;
  return `• ${icon} ${where} ${what}${step ? ` at *${step}*` : ''}:${codes} ${member.message ?? ''}`.trimEnd();
}

/** Every member in one line: blocked ones first (what needs doing), then those that would go on. */
export function memberLines(run: EnableBatchRun): string[] {
  const rehearsed = new Map((run.facts.tally?.rehearsed ?? []).map((m) => [m.runId, m]));
  const line = (m: BatchMember) => {
    const done = m.runId ? rehearsed.get(m.runId) : undefined;
    if (done) return rehearsedLine(done);
    return `• \`${m.ref}\`${m.runId ? ` (\`${m.runId}\`): not planned` : `: not planned, ${m.skipped ?? 'no run'}`}`;
  };
  const members = run.facts.members ?? [];
  const proceeds = (m: BatchMember) => (m.runId ? rehearsed.get(m.runId)?.status === 'succeeded' : false);
  return [...members.filter((m) => !proceeds(m)), ...members.filter(proceeds)].map(line);
}

/** Blocker codes and how many clusters each stops, most first. */
function codeCounts(rehearsed: RehearsedMember[]): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const member of rehearsed)
    for (const code of member.codes ?? []) counts.set(code, (counts.get(code) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]);
}

/** How many of the batch's dry runs would proceed, and how many a blocker stops. */
function outcomes(rehearsed: RehearsedMember[]): { proceed: number; blocked: number } {
  return {
    proceed: rehearsed.filter((m) => m.status === 'succeeded').length,
    blocked: rehearsed.filter((m) => m.status === 'failed').length,
  };
}

function heading(run: EnableBatchRun, { proceed, blocked }: ReturnType<typeof outcomes>): string {
  const members = run.facts.members ?? [];
  const rehearsed = run.facts.tally?.rehearsed ?? [];
  const other = members.length - proceed - blocked;
  const changes = rehearsed.reduce((sum, m) => sum + m.changes, 0);
  const command = `\`${commandOf(run)}\``;
  const lines = [
    `${blocked ? ':construction:' : ':test_tube:'} *Dry run of ${command}: nothing was changed.*`,
    `*${members.length} cluster(s)*: *${proceed} would proceed* (${changes} change(s) in all), *${blocked} blocked*${other ? `, ${other} not planned` : ''}.`,
  ];
  const codes = codeCounts(rehearsed);
  if (codes.length)
    lines.push(`Blocked by: ${codes.map(([code, n]) => `\`${code}\` (${n} cluster(s))`).join(', ')}`);
  if (run.facts.unmatched?.length)
    lines.push(`Matched nothing: ${run.facts.unmatched.map((t) => `\`${t}\``).join(', ')}`);
  return lines.join('\n');
}

/** The batch dry run's last message (see the module comment), within Slack's 50 blocks. */
export function batchDryRunMessage(run: EnableBatchRun): MessageContent {
  const lines = memberLines(run);
  const counts = outcomes(run.facts.tally?.rehearsed ?? []);
  const { blocks: list, left } = packed(lines, CLUSTER_SECTIONS);
  // The lines put every cluster that does not proceed first: those past the ones shown are left out.
  const blockedLeft = Math.max(0, lines.length - counts.proceed - (lines.length - left));
  const more = left
    ? [
        section(
          `…and ${left} more cluster(s)${blockedLeft ? ` (${blockedLeft} of them not proceeding)` : ''}: \`/mesh status ${run.id}\` lists every one.`,
        ),
      ]
    : [];
  const tail: KnownBlock = {
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: truncate(
          `Dry run of batch \`${run.id}\` · \`/mesh status RUN_ID\` shows a cluster's whole plan (every call, label and restart, each blocker's fix) · to do it: \`${commandOf(run)}\``,
        ),
      },
    ],
  };
  return {
    text: `Dry run of ${commandOf(run)}: ${run.facts.members?.length ?? 0} cluster(s), ${counts.proceed} would proceed, ${counts.blocked} blocked, nothing changed`,
    blocks: [section(heading(run, counts)), ...list, ...more, tail],
  };
}
