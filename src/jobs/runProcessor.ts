import { DelayedError, type Job } from 'bullmq';
import { asMeshopsError, MeshopsError } from '../errors.js';
import type { Logger } from '../log.js';
import { age } from '../slack/time.js';
import type { ClusterLocks } from '../store/locks.js';
import { VersionConflict, type RunStore } from '../store/runs.js';
import { advance, type WorkflowDeps } from '../workflows/engine.js';
import { workflowOf } from '../workflows/registry.js';
import { isTerminal, type RunRecord } from '../workflows/run.js';
import { failure, stepApplied, threadClosing, threadStarted } from '../workflows/transitions.js';
import type { RunJobData } from './runQueue.js';

export interface RunProcessorDeps {
  store: RunStore;
  locks: ClusterLocks;
  workflow: WorkflowDeps;
  log: Logger;
  /** Called once a run has finished and its cluster is free (e.g. to start watching it). */
  onFinished?: (run: RunRecord) => Promise<void>;
}

/**
 * Advances one run as far as it can go now. The record is saved after every step; to wait, the
 * job is parked with moveToDelayed (after the save, so a worker that picks it up again resumes
 * from the saved step). A killed worker leaves an active job whose lock expires; BullMQ's stalled
 * check hands it to another worker, which starts here and reads the record again.
 */
export function createRunProcessor({ store, locks, workflow, log, onFinished }: RunProcessorDeps) {
  const { notifier, clock } = workflow;

  /**
   * Says that the run ended and frees its cluster; each part is keyed, so a worker killed half-way
   * through does it again from the top. Only then is the thread marked closing (in the record) and
   * compacted: after that mark nothing is announced again, since the thread's records may be gone.
   */
  async function finish(run: RunRecord): Promise<void> {
    await notifier.emit(run, { type: 'finished' });
    await locks.unlock(run);
    log.info({ runId: run.id, status: run.status, outcome: run.outcome }, 'run finished');
    await onFinished?.(run);
    const closing = await store.update(run.id, (current) => threadClosing(current, clock.now()));
    await notifier.emit(closing, { type: 'closed' });
  }

  async function startThread(run: RunRecord): Promise<RunRecord> {
    await notifier.emit(run, { type: 'started' });
    const started = await store.update(run.id, (current) => threadStarted(current, clock.now()));
    await notifier.emit(started, { type: 'progressed' });
    return started;
  }

  /** The last attempt's error, saying that it was the last and for how long the step kept failing. */
  function gaveUp(run: RunRecord, error: unknown, attempts: number): MeshopsError {
    const problem = asMeshopsError(error);
    return new MeshopsError(
      problem.code,
      `${problem.message} (still failing after ${attempts} attempts over ${age(clock.now() - run.attempt.since)})`,
      { cause: problem, ...(problem.hint ? { hint: problem.hint } : {}) },
    );
  }

  return async function processRun(job: Job<RunJobData>, token?: string): Promise<void> {
    const runId = job.data.runId;
    let run = await store.get(runId);
    if (!run) {
      log.warn({ runId, jobId: job.id }, 'job for a run that does not exist; dropping it');
      return;
    }
    // Ended (by its last step before a crash, or by a cancel): announced and compacted once.
    if (isTerminal(run)) return run.slack.closing ? notifier.emit(run, { type: 'closed' }) : finish(run);
    if (run.status === 'queued') run = await startThread(run);
    const definition = workflowOf(run.kind);

    for (;;) {
      let advanced;
      try {
        advanced = await advance(run, definition, workflow);
      } catch (error) {
        const attempt = job.attemptsMade + 1;
        const attempts = job.opts.attempts ?? 1;
        const lastAttempt = attempt >= attempts;
        log.warn({ runId, step: run.step, err: error, lastAttempt }, 'step failed with a retryable error');
        if (!lastAttempt) {
          // A first retry is quick and quiet; trouble that lasts is said in the thread (attempts 2, 4, 6…).
          if (attempt % 2 === 0) {
            const backoff = job.opts.backoff;
            const base = typeof backoff === 'object' ? (backoff.delay ?? 0) : (backoff ?? 0);
            const problem = asMeshopsError(error);
            await notifier.emit(run, {
              type: 'retrying',
              step: run.step,
              attempt,
              attempts,
              retryInMs: base * 2 ** (attempt - 1),
              reason: problem.hint ?? problem.message,
            });
          }
          throw error;
        }
        advanced = stepApplied(run, failure(gaveUp(run, error, attempts)), clock.now(), definition.order);
      }
      try {
        run = await store.save(advanced.run);
      } catch (error) {
        if (!(error instanceof VersionConflict)) throw error;
        // Someone saved in between (an approval click): read it, and go on only if the run still runs.
        run = await store.require(runId);
        if (isTerminal(run)) return;
        continue;
      }
      const then = advanced.then;
      if (then.type === 'stop') return finish(run);
      if (advanced.moved) await notifier.emit(run, { type: 'progressed' });
      if (then.type === 'continue' || then.wakeAt <= clock.now()) continue;

      if (!token) throw new Error('BullMQ gave no lock token: cannot park the job');
      await job.moveToDelayed(then.wakeAt, token);
      // A decision may have been saved after our save but before the park, when there was no
      // parked job to promote yet: look once more, now that the job is in the delayed set.
      if (run.status === 'awaiting-approval') {
        const fresh = await store.get(runId);
        if (fresh?.approval?.decision) await job.promote();
      }
      throw new DelayedError();
    }
  };
}
