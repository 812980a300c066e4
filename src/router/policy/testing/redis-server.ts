// Starts a throw-away redis-server for tests on a free loopback port (no persistence). Returns undefined when
// redis-server is not installed so tests can skip with a clear message.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { connect, createServer } from 'node:net';

export interface TestRedis {
  address: string;
  port: number;
  stop(): Promise<void>;
}

export const REDIS_BIN = process.env.REDIS_SERVER_BIN ?? 'redis-server';

export function redisAvailable(): boolean {
  return spawnSync(REDIS_BIN, ['--version'], { stdio: 'ignore' }).status === 0;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function startOnce(port: number): Promise<ChildProcess | undefined> {
  const child = spawn(
    REDIS_BIN,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  // Ready when the port accepts a PING; gone when the process exits (port taken between freePort and bind).
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) return undefined;
    if (await ping(port)) return child;
    await new Promise((r) => setTimeout(r, 25));
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server did not start on port ${port}: ${out}`);
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    let buf = '';
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('PONG')) {
        sock.destroy();
        resolve(true);
      }
    });
    sock.on('error', () => resolve(false));
    sock.setTimeout(500, () => {
      sock.destroy();
      resolve(false);
    });
  });
}

export async function startRedis(): Promise<TestRedis | undefined> {
  if (!redisAvailable()) return undefined;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const child = await startOnce(port);
    if (!child) continue;
    return {
      port,
      address: `127.0.0.1:${port}`,
      stop: () =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
    };
  }
  throw new Error('redis-server could not bind a free port after 5 attempts');
}
