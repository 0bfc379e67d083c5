import { DelayedError, type Job } from 'bullmq';
import { asMeshopsError } from '../errors.js';
import type { Logger } from '../log.js';
import { VersionConflict, type RunStore } from '../store/runStore.js';
import { enableClusterWorkflow } from '../workflows/enableCluster.js';
import { advance, apply, failure, type WorkflowDeps } from '../workflows/engine.js';
import { isTerminal, type RunRecord } from '../workflows/run.js';
import type { RunJobData } from './runQueue.js';

export interface RunProcessorDeps {
  store: RunStore;
  workflow: WorkflowDeps;
  log: Logger;
}

/**
 * Advances one run as far as it can go now. The record is saved after every step; to wait, the
 * job is parked with moveToDelayed (after the save, so a worker that picks it up again resumes
 * from the saved step). A killed worker leaves an active job whose lock expires; BullMQ's stalled
 * check hands it to another worker, which starts here and reads the record again.
 */
export function createRunProcessor({ store, workflow, log }: RunProcessorDeps) {
  const { notifier, clock } = workflow;

  async function finish(run: RunRecord): Promise<void> {
    await notifier.announceOutcome(run);
    await store.unlockCluster(run);
    log.info({ runId: run.id, status: run.status, outcome: run.outcome }, 'run finished');
  }

  async function startThread(run: RunRecord): Promise<RunRecord> {
    const rootTs = await notifier.postRoot(run);
    const now = clock.now();
    const started = await store.update(run.id, (current) => ({
      ...current,
      slack: { ...current.slack, rootTs },
      status: current.status === 'queued' ? 'running' : current.status,
      steps: {
        ...current.steps,
        [current.step]: current.steps[current.step] ?? { status: 'running', at: now },
      },
    }));
    await notifier.updateRoot(started);
    return started;
  }

  return async function processRun(job: Job<RunJobData>, token?: string): Promise<void> {
    const runId = job.data.runId;
    let run = await store.get(runId);
    if (!run) {
      log.warn({ runId, jobId: job.id }, 'job for a run that does not exist; dropping it');
      return;
    }
    if (isTerminal(run)) return;
    if (!run.slack.rootTs) run = await startThread(run);

    for (;;) {
      let advanced;
      try {
        advanced = await advance(run, enableClusterWorkflow, workflow);
      } catch (error) {
        const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
        log.warn({ runId, step: run.step, err: error, lastAttempt }, 'step failed with a retryable error');
        if (!lastAttempt) throw error;
        advanced = apply(run, failure(asMeshopsError(error)), clock.now());
      }
      try {
        run = await store.save(advanced.run);
      } catch (error) {
        if (!(error instanceof VersionConflict)) throw error;
        // An approval click saved in between: read it and run the step again (steps are idempotent).
        run = await store.require(runId);
        continue;
      }
      const then = advanced.then;
      if (then.type === 'stop') return finish(run);
      if (advanced.moved) await notifier.updateRoot(run);
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
