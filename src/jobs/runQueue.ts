import type { Queue } from 'bullmq';

export const RUN_QUEUE = 'runs';

/** Only the run id travels in the job: the record holds the rest, and no token is ever in job data. */
export interface RunJobData {
  runId: string;
}

/** Producer side of the run queue: one job per run, its id the run id. */
/** How often a step failing with a retryable error is tried, and the first delay (doubling after). */
export interface RunRetry {
  attempts: number;
  retryDelayMs: number;
}

export class RunQueue {
  constructor(
    private readonly queue: Queue<RunJobData>,
    private readonly retry: RunRetry = { attempts: 8, retryDelayMs: 5000 },
  ) {}

  async enqueue(runId: string): Promise<void> {
    await this.queue.add(
      'advance',
      { runId },
      {
        jobId: runId,
        // Retryable cloud errors (after the adapters' own retries) fail the attempt; the record says where to resume.
        attempts: this.retry.attempts,
        backoff: { type: 'exponential', delay: this.retry.retryDelayMs },
        // The record is the truth and outlives the job: a finished job is only Redis memory.
        removeOnComplete: true,
        removeOnFail: { age: 30 * 86_400 },
      },
    );
  }

  /** Wakes a parked run now (after an approval decision). False if the job was not parked. */
  async wake(runId: string): Promise<boolean> {
    const job = await this.queue.getJob(runId);
    if (!job || !(await job.isDelayed())) return false;
    try {
      await job.promote();
      return true;
    } catch (error) {
      // The job left the delayed set between the check and the promote: the worker has it already.
      if (await job.isDelayed()) throw error;
      return false;
    }
  }
}
