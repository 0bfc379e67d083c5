/**
 * A batch's runs in Redis: admitted like any run (the trigger keyed on the batch and the cluster, so
 * a batch step that runs again admits nothing twice; one run per cluster), read in one round trip,
 * and given the batch's decision with the same compare-and-set an approval click uses.
 */
import type { RunQueue } from './runQueue.js';
import type { RunStore } from '../store/runs.js';
import { startRun } from '../workflows/registry.js';
import { clusterKey, isTerminal, type BatchMember, type Decision, type RunRecord } from '../workflows/run.js';
import { decisionRecorded, isDecisionRefusal } from '../workflows/transitions.js';
import type { Batches, ClusterRef, Clock } from '../workflows/ports.js';

/** Admissions in flight at once: enough to take a thousand clusters in well under a second. */
const CHUNK = 50;

/** The run id of a batch's `index`-th cluster: the batch's id and the index, so it is the same after a crash. */
export function batchRunId(batchId: string, index: number): string {
  return `${batchId}c${index.toString(36)}`;
}

export class RedisBatches implements Batches {
  constructor(
    private readonly store: RunStore,
    private readonly queue: RunQueue,
    private readonly clock: Clock,
  ) {}

  async start(batch: RunRecord, clusters: ClusterRef[]): Promise<BatchMember[]> {
    const members: BatchMember[] = [];
    for (let from = 0; from < clusters.length; from += CHUNK) {
      const chunk = clusters.slice(from, from + CHUNK);
      members.push(...(await Promise.all(chunk.map((cluster, i) => this.admit(batch, cluster, from + i)))));
    }
    return members;
  }

  private async admit(batch: RunRecord, cluster: ClusterRef, index: number): Promise<BatchMember> {
    const ref = clusterKey(cluster);
    const run = {
      ...startRun('enable-cluster', {
        id: batchRunId(batch.id, index),
        now: this.clock.now(),
        requester: batch.requester,
        cluster,
        options: {
          namespaces: batch.options.namespaces,
          restart: batch.options.restart,
          ...(batch.options.fleet ? { fleet: batch.options.fleet } : {}),
        },
        // A batch's dry run: each member a dry run, which locks no cluster (so none is busy).
        ...(batch.dryRun ? { dryRun: true } : {}),
      }),
      parent: batch.id,
    };
    const admitted = await this.store.admit(run, `batch:${batch.id}:${index}`);
    if (admitted.state === 'busy') return { ref, skipped: `run \`${admitted.holder}\` holds it` };
    if (admitted.state === 'replay') {
      // Admitted before a crash (enqueued again: adding a job that exists does nothing), or refused as busy then.
      const earlier = await this.store.get(run.id);
      if (!earlier) return { ref, skipped: 'another run held it' };
      if (!isTerminal(earlier)) await this.queue.enqueue(run.id);
      return { ref, runId: run.id };
    }
    await this.queue.enqueue(run.id);
    return { ref, runId: run.id };
  }

  runs(ids: string[]): Promise<Array<RunRecord | null>> {
    return this.store.many(ids);
  }

  async decide(ids: string[], decisions: Decision[]): Promise<number> {
    let took = 0;
    for (const id of ids) {
      const after = await this.store.update(id, (current) => {
        let next: RunRecord | null = null;
        for (const decision of decisions) {
          const result = decisionRecorded(next ?? current, decision);
          if (isDecisionRefusal(result)) break;
          next = result.run;
        }
        return next;
      });
      // Decided now, or before a crash that came before its wake: wake it (waking twice is nothing).
      if (after.status !== 'awaiting-approval' || !after.approval?.decision) continue;
      took += 1;
      await this.queue.wake(id);
    }
    return took;
  }
}
