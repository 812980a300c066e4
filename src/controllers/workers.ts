// N workers over one work queue until the signal aborts (then the queue shuts down and the workers drain): the
// loop every controller shares. `process` handles one key; `done` is always called after it.
import type { WorkQueueLike } from './modelserving/io.js';

export async function runWorkers(
  queue: WorkQueueLike<string>,
  workers: number | undefined,
  signal: AbortSignal,
  process: (key: string) => Promise<void>,
): Promise<void> {
  const stop = () => queue.shutDown();
  if (signal.aborted) stop();
  else signal.addEventListener('abort', stop, { once: true });
  const worker = async () => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        await process(key);
      } finally {
        queue.done(key);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, workers ?? 5) }, worker));
  signal.removeEventListener('abort', stop);
}
