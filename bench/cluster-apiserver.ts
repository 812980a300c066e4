// Measures the local API server: create/list/watch latency and memory with N pods and W concurrent
// watches. The server runs in a child process (`kthena cluster`) so its RSS is measured alone.
//   npx tsx bench/cluster-apiserver.ts [--pods 1000] [--watches 100] [--concurrency 16] [--data-dir]
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';

const args = process.argv.slice(2);
const arg = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const PODS = arg('pods', 1000);
const WATCHES = arg('watches', 100);
const CONC = arg('concurrency', 16);
const DURABLE = args.includes('--data-dir');

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}
const fmt = (ms: number) => `${ms.toFixed(2)} ms`;

async function rssMiB(pid: number): Promise<number> {
  const st = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(st)![1]) / 1024;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'kthena-bench-'));
  const cliArgs = [
    '--import',
    'tsx',
    'src/cli/main.ts',
    'cluster',
    '--port',
    '0',
    '--kubeconfig',
    join(dir, 'kc.yaml'),
    '--log-level',
    'warn',
  ];
  if (DURABLE) cliArgs.push('--data-dir', join(dir, 'data'));
  const child: ChildProcess = spawn(process.execPath, cliArgs, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d) => {
    out += String(d);
  });
  let base = '';
  for (let i = 0; i < 600 && !base; i++) {
    const m = /API server at (http:\/\/\S+)/.exec(out);
    if (m) base = m[1];
    else await new Promise((r) => setTimeout(r, 100));
  }
  if (!base) throw new Error('server did not start');
  const agent = new Agent({ connections: 256, pipelining: 1 });
  const call = async (method: 'GET' | 'POST', path: string, body?: unknown, accept?: string) => {
    const r = await request(base + path, {
      method,
      dispatcher: agent,
      headers: { 'content-type': 'application/json', ...(accept ? { accept } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await r.body.text();
    if (r.statusCode >= 300) throw new Error(`${method} ${path}: ${r.statusCode} ${text}`);
    return text;
  };
  await new Promise((r) => setTimeout(r, 500));
  const rssIdle = await rssMiB(child.pid!);

  // W watches on all pods, each recording when it saw each pod's ADDED.
  const seen: Map<string, number>[] = [];
  const aborts: AbortController[] = [];
  const listRV = JSON.parse(await call('GET', '/api/v1/pods')).metadata.resourceVersion;
  await Promise.all(
    Array.from({ length: WATCHES }, async (_, w) => {
      const m = new Map<string, number>();
      seen.push(m);
      const ac = new AbortController();
      aborts.push(ac);
      const r = await request(`${base}/api/v1/pods?watch=true&resourceVersion=${listRV}`, {
        dispatcher: agent,
        signal: ac.signal,
      });
      let buf = '';
      r.body.on('data', (chunk: Buffer) => {
        buf += chunk.toString('utf8');
        let i = buf.indexOf('\n');
        while (i >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          // Cheap scan instead of JSON.parse: the client shares the machine with the server.
          if (line.startsWith('{"type":"ADDED"')) {
            const at = line.indexOf('"name":"') + 8;
            m.set(line.slice(at, line.indexOf('"', at)), performance.now());
          }
          i = buf.indexOf('\n');
        }
      });
      r.body.on('error', () => undefined);
      return w;
    }),
  );

  const sent = new Map<string, number>();
  const createLat: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONC }, async () => {
      for (;;) {
        const i = next++;
        if (i >= PODS) return;
        const name = `p${i}`;
        const body = {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name, labels: { app: `a${i % 10}` } },
          spec: {
            containers: [
              { name: 'c', image: 'vllm/vllm-openai:v0.10.0', resources: { limits: { 'nvidia.com/gpu': '1' } } },
            ],
          },
        };
        const s = performance.now();
        sent.set(name, s);
        await call('POST', '/api/v1/namespaces/default/pods', body);
        createLat.push(performance.now() - s);
      }
    }),
  );
  const createSecs = (performance.now() - t0) / 1000;
  // Wait until every watch saw every pod.
  for (let i = 0; i < 600; i++) {
    if (seen.every((m) => m.size >= PODS)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const fanout: number[] = [];
  const missing = seen.reduce((n, m) => n + (PODS - m.size), 0);
  for (const [name, s] of sent) {
    let last = 0;
    for (const m of seen) last = Math.max(last, m.get(name) ?? 0);
    if (last) fanout.push(last - s);
  }
  const listLat: number[] = [];
  const tableLat: number[] = [];
  const selLat: number[] = [];
  for (let i = 0; i < 20; i++) {
    let s = performance.now();
    await call('GET', '/api/v1/namespaces/default/pods');
    listLat.push(performance.now() - s);
    s = performance.now();
    await call(
      'GET',
      '/api/v1/namespaces/default/pods',
      undefined,
      'application/json;as=Table;v=v1;g=meta.k8s.io,application/json',
    );
    tableLat.push(performance.now() - s);
    s = performance.now();
    await call('GET', '/api/v1/namespaces/default/pods?labelSelector=app%3Da3');
    selLat.push(performance.now() - s);
  }
  const rssLoaded = await rssMiB(child.pid!);
  for (const a of aborts) a.abort();
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  await agent.close();
  await rm(dir, { recursive: true, force: true });

  const rows: [string, string][] = [
    ['machine', `${cpus().length} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}`],
    [
      'pods / watches / create concurrency',
      `${PODS} / ${WATCHES} / ${CONC}${DURABLE ? ' (--data-dir, fdatasync per batch)' : ' (in memory)'}`,
    ],
    ['create throughput', `${(PODS / createSecs).toFixed(0)} pods/s`],
    ['create latency p50 / p99', `${fmt(pct(createLat, 50))} / ${fmt(pct(createLat, 99))}`],
    [
      'watch delivery to all watchers p50 / p99',
      `${fmt(pct(fanout, 50))} / ${fmt(pct(fanout, 99))} (missing events: ${missing})`,
    ],
    [`list ${PODS} pods p50 / p99`, `${fmt(pct(listLat, 50))} / ${fmt(pct(listLat, 99))}`],
    [`list ${PODS} pods as Table p50`, fmt(pct(tableLat, 50))],
    ['list with labelSelector p50', fmt(pct(selLat, 50))],
    ['server RSS idle → loaded', `${rssIdle.toFixed(0)} MiB → ${rssLoaded.toFixed(0)} MiB`],
  ];
  for (const [k, v] of rows) console.log(`${k.padEnd(44)} ${v}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
