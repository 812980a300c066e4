// pods/log: serves container output from files the kubelet writes as
// `<logDir>/<namespace>_<pod>_<container>.log` (previous instance: `….previous.log`).
// follow=true streams appended bytes until the pod is deleted or the client goes away.
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { ApiCore } from './core.js';
import { errors } from './errors.js';
import type { ResourceType } from './types.js';
import type { Obj } from './util.js';

export function logFilePath(
  logDir: string,
  namespace: string,
  pod: string,
  container: string,
  previous = false,
): string {
  return join(logDir, `${namespace}_${pod}_${container}${previous ? '.previous' : ''}.log`);
}

export interface LogParams {
  container?: string;
  follow: boolean;
  tailLines?: number;
  limitBytes?: number;
  previous: boolean;
  pollMs?: number;
}

function pickContainer(pod: Obj, requested: string | undefined): string {
  const names: string[] = [
    ...(pod.spec?.containers ?? []).map((c: Obj) => c.name),
    ...(pod.spec?.initContainers ?? []).map((c: Obj) => c.name),
  ];
  const name = pod.metadata.name;
  if (requested) {
    if (!names.includes(requested)) throw errors.badRequest(`container ${requested} is not valid for pod ${name}`);
    return requested;
  }
  const main: string[] = (pod.spec?.containers ?? []).map((c: Obj) => c.name);
  if (main.length === 1) return main[0];
  throw errors.badRequest(`a container name must be specified for pod ${name}, choose one of: [${main.join(' ')}]`);
}

function tailStart(buf: Buffer, lines: number): number {
  if (lines <= 0) return buf.length;
  let end = buf.length;
  if (end > 0 && buf[end - 1] === 10) end--;
  let count = 0;
  for (let i = end - 1; i >= 0; i--) {
    if (buf[i] === 10) {
      count++;
      if (count === lines) return i + 1;
    }
  }
  return 0;
}

export async function serveLogs(
  core: ApiCore,
  t: ResourceType,
  logDir: string,
  ns: string,
  name: string,
  p: LogParams,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const pod = core.get(t, ns, name);
  const container = pickContainer(pod, p.container);
  const file = logFilePath(logDir, ns, name, container, p.previous);
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch {
    if (p.previous) throw errors.badRequest(`previous terminated container "${container}" in pod "${name}" not found`);
    const waiting = (pod.status?.containerStatuses ?? []).find((c: Obj) => c.name === container)?.state?.waiting
      ?.reason;
    throw errors.badRequest(
      `container "${container}" in pod "${name}" is waiting to start: ${waiting ?? 'ContainerCreating'}`,
    );
  }
  let start = 0;
  if (p.tailLines !== undefined) {
    // Read at most the last 4 MiB to find the tail.
    const from = Math.max(0, size - 4 * 1024 * 1024);
    const fh = await open(file, 'r');
    try {
      const buf = Buffer.alloc(size - from);
      await fh.read(buf, 0, buf.length, from);
      start = from + tailStart(buf, p.tailLines);
    } finally {
      await fh.close();
    }
  }
  let budget = p.limitBytes ?? Number.POSITIVE_INFINITY;
  res.writeHead(200, {
    'Content-Type': 'text/plain',
    'Cache-Control': 'no-cache, private',
    'Transfer-Encoding': 'chunked',
  });
  const copy = (from: number, to: number): Promise<number> =>
    new Promise((resolve, reject) => {
      const end = Math.min(to, from + budget);
      if (end <= from) {
        resolve(from);
        return;
      }
      const s = createReadStream(file, { start: from, end: end - 1 });
      s.on('data', (chunk) => {
        res.write(chunk);
        budget -= (chunk as Buffer).length;
      });
      s.on('end', () => resolve(end));
      s.on('error', reject);
    });
  let pos = await copy(start, size);
  if (!p.follow || budget <= 0) {
    res.end();
    return;
  }
  const rk = core.rk(t);
  const key = core.key(t, ns, name);
  const uid = pod.metadata.uid;
  let done = false;
  await new Promise<void>((resolve) => {
    const stop = () => {
      if (done) return;
      done = true;
      clearInterval(timer);
      unsubscribe();
      resolve();
    };
    const unsubscribe = core.store.subscribe((ev) => {
      if (ev.rk === rk && ev.key === key && ev.type === 'DELETED' && ev.obj.metadata.uid === uid) setTimeout(poll, 0);
    });
    let busy = false;
    const poll = () => {
      if (busy || done) return;
      busy = true;
      stat(file)
        .then(async (st) => {
          if (st.size < pos) pos = 0; // truncated/rotated: start over
          if (st.size > pos) pos = await copy(pos, st.size);
          const current = core.store.get(rk, key);
          if (!current || current.metadata.uid !== uid || budget <= 0) stop();
        })
        .catch(() => stop())
        .finally(() => {
          busy = false;
        });
    };
    const timer = setInterval(poll, p.pollMs ?? 200);
    req.on('close', stop);
    res.on('close', stop);
  });
  res.end();
}
