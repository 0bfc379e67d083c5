/**
 * The main thread's side of src/workerThread.ts: starts the workers on a thread of their own and
 * stops them with the process. A thread that dies on its own takes the process down (exit 1), so
 * whatever supervises meshops (Kubernetes, systemd, compose) starts it again: a receiver whose
 * workers are gone would ack commands that nothing runs.
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker as Thread } from 'node:worker_threads';
import { ConfigError, StartupError, type Config } from '../config.js';
import type { Logger } from '../log.js';
import type { FromWorkerThread, ToWorkerThread } from '../workerThread.js';

/** A thread that has not stopped this long after `stop` (its jobs get 10 s) is terminated. */
const STOP_TIMEOUT_MS = 20_000;

/** Started when it says so; rejects with the thread's own error (a ConfigError stays one). */
export async function startWorkerThread(config: Config, log: Logger): Promise<() => Promise<void>> {
  // dist/src/workerThread.js once built; src/workerThread.ts under tsx, whose hooks a thread does not
  // inherit on Node 20 (ERR_UNKNOWN_FILE_EXTENSION), so the thread registers them before the import.
  const extension = extname(fileURLToPath(import.meta.url));
  const entry = new URL(`../workerThread${extension}`, import.meta.url);
  const thread =
    extension === '.ts'
      ? new Thread(
          `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); })`,
          { eval: true, workerData: config },
        )
      : new Thread(entry, { workerData: config });
  let stopping = false;
  const exited = new Promise<number>((resolve) => thread.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    const onMessage = (message: FromWorkerThread) => {
      if (message.type === 'started') resolve();
      if (message.type !== 'failed') return;
      const Kind =
        message.name === 'ConfigError' ? ConfigError : message.name === 'StartupError' ? StartupError : Error;
      reject(new Kind(message.message));
    };
    thread.on('message', onMessage);
    thread.once('error', reject);
    void exited.then((code) => reject(new Error(`the worker thread exited with ${code} before it started`)));
  });
  thread.on('error', (error) => log.error({ err: error }, 'the worker thread failed'));
  void exited.then((code) => {
    if (stopping) return;
    log.error({ code }, 'the worker thread stopped on its own: exiting, so meshops is started again');
    process.exit(1);
  });
  return async () => {
    stopping = true;
    thread.postMessage({ type: 'stop' } satisfies ToWorkerThread);
    const timer = setTimeout(() => void thread.terminate(), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };
}
