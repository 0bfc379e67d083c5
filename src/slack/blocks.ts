/** Block Kit pieces the run messages share, within Slack's limits: 50 blocks, 3,000 characters a section. */
import type { KnownBlock } from '@slack/web-api';
import type { NamespacePlan } from '../workflows/run.js';
import { truncate } from './render.js';

export const MAX_BLOCKS = 50;
export const SECTION_CHARS = 3000;

export function section(text: string): KnownBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: truncate(text) } };
}

/** Lines packed into sections of at most 3,000 characters each (a longer line is cut), in at most `room` blocks. */
export function packed(lines: string[], room: number): { blocks: KnownBlock[]; left: number } {
  const blocks: KnownBlock[] = [];
  let current = '';
  let index = 0;
  for (; index < lines.length; index++) {
    const line = truncate(lines[index] ?? '', SECTION_CHARS);
    if (current && current.length + 1 + line.length > SECTION_CHARS) {
      if (blocks.length + 1 >= room) break;
      blocks.push(section(current));
      current = '';
    }
    current = current ? `${current}\n${line}` : line;
  }
  if (current) blocks.push(section(current));
  return { blocks, left: lines.length - index };
}

/** A namespace of an injection plan: its pods, PodDisruptionBudgets and workloads. */
export function planLine(ns: NamespacePlan): string {
  const workloads = ns.workloads.map((w) => `${w.kind} ${w.name}`).join(', ');
  return (
    `• \`${ns.name}\`: ${ns.pods} pod(s)` +
    (ns.podDisruptionBudgets ? `, ${ns.podDisruptionBudgets} PodDisruptionBudget(s)` : '') +
    (ns.settled ? ', already as wanted' : '') +
    (workloads ? ` — ${workloads}` : '')
  );
}
