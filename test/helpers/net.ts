// Small shared helpers for integration tests that start engines and routers on loopback.
import { createServer } from 'node:net';

/** A TCP port free on 127.0.0.1 right now (for sockets that need a fixed port, like ZMQ publishers). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** `n` pseudo-random words (deterministic for a seed), a prompt text whose tokens differ from seed to seed. */
export function words(seed: number, n: number): string {
  let s = '';
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    s += ` w${(x % 99991).toString(36)}`;
  }
  return s;
}
