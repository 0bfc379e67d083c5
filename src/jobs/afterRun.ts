/**
 * What follows a finished run, outside its workflow: a cluster just put on the mesh is watched
 * from its channel (config `watch.afterEnable`), so its upgrades are heard of; a cluster whose
 * managed mesh was turned off is watched no more, so nobody is told that its revisions are gone.
 * Both are told once in the run's thread (the events are keyed). A dry run is followed by neither.
 */
import type { Outbox } from '../slack/outbox.js';
import type { WatchStore } from '../store/watches.js';
import type { Clock, Notifier } from '../workflows/ports.js';
import { clusterKey, type RunRecord } from '../workflows/run.js';
import { watchChain, type WatchScheduler } from './watchers.js';

export interface AfterRunDeps {
  watches: WatchStore;
  scheduler: WatchScheduler;
  outbox: Outbox;
  notifier: Notifier;
  clock: Clock;
  watchAfterEnable: boolean;
}

export function afterRun(deps: AfterRunDeps) {
  const { watches, scheduler, outbox, notifier, clock } = deps;
  return async (run: RunRecord): Promise<void> => {
    // A dry run changed nothing: there is nothing new to watch, nor anything turned off.
    if (run.status !== 'succeeded' || run.dryRun) return;
    const cluster = clusterKey(run.cluster);
    if (run.kind === 'enable-cluster' && deps.watchAfterEnable) {
      await watches.add(cluster, {
        channel: run.slack.channel,
        by: run.requester.userId,
        since: clock.now(),
        auto: true,
      });
      await scheduler.start(cluster);
      // Told also when the channel watched it already (it does watch it).
      await notifier.emit(run, { type: 'watchStarted', channel: run.slack.channel });
    }
    if (run.kind === 'disable-cluster') {
      const watch = await watches.get(cluster);
      if (!watch?.channels.length) return;
      const channels = watch.channels.map((c) => c.channel);
      for (const channel of channels) {
        await watches.remove(cluster, channel);
        await outbox.cancel(watchChain(cluster, channel), 'managed mesh turned off');
      }
      if ((await watches.clustersOfProject(run.cluster.project)).length === 0) {
        await scheduler.stop(run.cluster.project);
      }
      await notifier.emit(run, { type: 'watchesStopped', channels });
    }
  };
}
