/** `/mesh list`: runs in flight and watched clusters, for the person who asked. */
import type { WatchRecord } from '../store/watches.js';
import { clusterKey, type RunRecord } from '../workflows/run.js';
import { truncate } from './render.js';
import { age } from './time.js';

const MAX = 20;

export function listMessage(runs: RunRecord[], watches: WatchRecord[], now: number): string {
  const runLines = runs
    .slice(0, MAX)
    .map(
      (run) =>
        `• \`${run.id}\` ${run.kind}${run.dryRun ? ' (dry run)' : ''} \`${clusterKey(run.cluster)}\` — ${run.status} at *${run.step}*, ${age(now - run.createdAt)} old, asked by <@${run.requester.userId}> in <#${run.slack.channel}>`,
    );
  const watchLines = watches.slice(0, MAX).map((watch) => {
    const channels = watch.channels
      .map((c) => `<#${c.channel}>${c.auto ? ' (after enable)' : ''}`)
      .join(', ');
    const last = watch.lastChange
      ? `last change ${age(now - watch.lastChange.at)} ago: ${watch.lastChange.summary}`
      : watch.memory
        ? 'no change seen yet'
        : 'first read pending';
    return `• \`${watch.cluster}\` in ${channels} — ${last}`;
  });
  const more = (shown: number, all: number) => (all > shown ? [`…and ${all - shown} more`] : []);
  return truncate(
    [
      `*Runs in flight* (${runs.length})`,
      ...(runLines.length ? runLines : ['none']),
      ...more(runLines.length, runs.length),
      `*Watched clusters* (${watches.length})`,
      ...(watchLines.length
        ? watchLines
        : ['none — `/mesh watch PROJECT/LOCATION/CLUSTER` to be told of mesh upgrades']),
      ...more(watchLines.length, watches.length),
    ].join('\n'),
    3900,
  );
}
