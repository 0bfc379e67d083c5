/**
 * Stopping BullMQ workers within a deadline. A worker's close() waits for its main loop, which
 * waits on the blocking connection's BZPOPMIN; after a Redis restart that connection can stay
 * parked in 'reconnecting' with the command queued, and close() never returns (bullmq#4585,
 * #4656). Past the grace period the blocking connections are disconnected, which rejects the
 * parked command and lets close() finish. Nothing is lost: a job still active is handed on by
 * the stalled check once its lock expires, and its run resumes from the record.
 */
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';

function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** The worker's own blocking client (private in BullMQ's types; present since v3). */
async function blockingClient(worker: Worker): Promise<Redis | undefined> {
  const connection = (worker as unknown as { blockingConnection?: { client: Promise<Redis> } })
    .blockingConnection;
  return connection ? connection.client.catch(() => undefined) : undefined;
}

export async function stopWorkers(workers: readonly Worker[], graceMs: number, log: Logger): Promise<void> {
  const closing = Promise.allSettled(workers.map((worker) => worker.close()));
  if (await within(closing, graceMs)) return;
  log.warn(
    { graceMs, workers: workers.length },
    'workers did not stop in time (a blocking Redis call parked after a reconnect); disconnecting them',
  );
  for (const worker of workers) (await blockingClient(worker))?.disconnect();
  if (!(await within(closing, graceMs))) log.error({ graceMs }, 'workers still did not stop; leaving them');
}
