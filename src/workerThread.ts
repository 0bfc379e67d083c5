/**
 * The workers of MESHOPS_ROLE=all, on a thread of their own, so the Slack receiver's event loop
 * only ever waits on acks: a thousand runs' TLS handshakes, JSON and retries happen here. The main
 * thread (src/main.ts, `startWorkerThread`) sends the config, and `stop` when it shuts down; this
 * thread answers `started` (or why it could not) and `stopped`. Everything they share is in Redis.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from './config.js';
import { createLogger } from './log.js';
import { startMeshops } from './main.js';

export type ToWorkerThread = { type: 'stop' };
export type FromWorkerThread =
  { type: 'started' } | { type: 'failed'; name: string; message: string } | { type: 'stopped' };

const port = parentPort;
if (!port) throw new Error('src/workerThread.ts runs as a worker thread of src/main.ts');
const say = (message: FromWorkerThread) => port.postMessage(message);
const config = workerData as Config;
const log = createLogger().child({ thread: 'workers' });

try {
  const meshops = await startMeshops({ ...config, role: 'worker' }, { log, http: false, worker: true });
  port.on('message', (message: ToWorkerThread) => {
    if (message.type !== 'stop') return;
    void meshops.stop().then(() => {
      say({ type: 'stopped' });
      port.close();
    });
  });
  say({ type: 'started' });
} catch (error) {
  const problem = error instanceof Error ? error : new Error(String(error));
  say({ type: 'failed', name: problem.name, message: problem.message });
  port.close();
}
