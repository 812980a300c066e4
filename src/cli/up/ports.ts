// Demo ports: the documented default when it is free, else an ephemeral one, so two demos (or a demo beside a
// running router) never collide; the caller prints what it got.
import { createServer } from 'node:net';

/** Resolves `preferred` if it can be bound on `host`, else 0 (let the OS choose). `preferred` 0 stays 0. */
export function portOrEphemeral(preferred: number, host = '127.0.0.1'): Promise<number> {
  if (preferred === 0) return Promise.resolve(0);
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(0));
    s.listen(preferred, host, () => s.close(() => resolve(preferred)));
  });
}
