// Router overhead benchmark (`kthena bench overhead`): the same SSE upstream reached directly, through the kthena
// router, through the Node floor (bench/overhead/node-floor.ts: node:http + undici, nothing else), through nginx (plain
// reverse proxy, buffering off) and through Portkey's gateway when it is installed.
// Reports TTFT p50/p99, total p50, chunks/s and proxy CPU per stream at several concurrencies, and ratios to direct.
//   kthena bench overhead [--concurrency 1,100,1000] [--streams N] [--chunks 50] [--interval-ms 20] [--json]
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { groupedBarChart } from '../charts.js';
import { percentile, runLoad } from './load.js';
import { startPortkey } from './portkey.js';
import { type Child, cpuMicros, freePort, rssMb, start, waitHttp } from './procs.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const TSX = join(ROOT, 'node_modules/.bin/tsx');

export interface TargetRow {
  /** `kthena-baseline`: the router from another git revision (--compare-with), for before/after in one run. */
  name: 'direct' | 'kthena' | 'kthena-baseline' | 'node-floor' | 'nginx' | 'portkey';
  concurrency: number;
  ttft_p50_ms: number;
  ttft_p99_ms: number;
  total_p50_ms: number;
  chunks_per_s: number;
  cpu_us_per_stream: number;
  streams: number;
  errors: number;
  /** Resident memory of the target's process tree after the level (MB); absent when not measurable. */
  rss_mb?: number;
  /** The router's event-loop delay p99 over the level (ms, its own nodejs_eventloop_lag_p99_seconds); kthena only. */
  event_loop_p99_ms?: number;
}

export interface OverheadOptions {
  concurrency: number[];
  /** Streams per concurrency level (at least the concurrency). */
  streams: (c: number) => number;
  chunks: number;
  intervalMs: number;
  /** A git revision whose router runs side by side as `kthena-baseline`. */
  compareWith?: string;
  /** Size of a system prompt added to every request (0: the one-line user message only). */
  promptBytes?: number;
  log: (line: string) => void;
}

/** Deterministic English-like filler of about `bytes` bytes. */
function promptText(bytes: number): string {
  const words = ['the', 'router', 'sends', 'every', 'request', 'to', 'a', 'replica', 'that', 'serves', 'it', 'best'];
  let s = '';
  for (let i = 0; s.length < bytes; i++) s += `${words[(i * 7) % words.length]} `;
  return s.slice(0, bytes);
}

function hasCommand(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function routerConfig(dir: string, upstreamPort: number): void {
  writeFileSync(
    join(dir, 'bench.yaml'),
    `apiVersion: networking.serving.volcano.sh/v1alpha1
kind: ModelRoute
metadata: {name: bench}
spec:
  modelName: bench
  rules: [{targetModels: [{modelServerName: bench}]}]
---
apiVersion: networking.serving.volcano.sh/v1alpha1
kind: ModelServer
metadata: {name: bench}
spec:
  inferenceEngine: vLLM
  workloadSelector: {matchLabels: {app: bench}}
  workloadPort: {port: ${upstreamPort}}
---
apiVersion: router.kthena.io/v1alpha1
kind: EngineEndpoint
metadata: {name: bench-0, labels: {app: bench}}
spec: {address: 127.0.0.1, port: ${upstreamPort}}
`,
  );
}

function nginxConfig(dir: string, port: number, upstreamPort: number): string {
  const conf = join(dir, 'nginx.conf');
  // One worker: the same single core a Node process gets. Buffering off so SSE chunks pass through at once.
  writeFileSync(
    conf,
    `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream engine { server 127.0.0.1:${upstreamPort}; keepalive 1024; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://engine;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_request_buffering off;
      proxy_read_timeout 300s;
    }
  }
}
`,
  );
  return conf;
}

/** The src/ tree of a git revision, extracted under `dir`, with this checkout's node_modules. */
function checkout(rev: string, dir: string): string {
  const root = join(dir, 'rev');
  mkdirSync(root, { recursive: true });
  const tar = execFileSync('git', ['-C', ROOT, 'archive', '--format=tar', rev, 'src', 'package.json'], {
    maxBuffer: 256 * 1024 * 1024,
  });
  execFileSync('tar', ['-x', '-C', root], { input: tar });
  symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'));
  return root;
}

/** The deterministic SSE upstream (bench/overhead/upstream.ts) in its own process. */
export async function startUpstream(chunks: number, intervalMs: number): Promise<{ port: number; child: Child }> {
  const port = await freePort();
  const child = start(TSX, [
    join(ROOT, 'bench/overhead/upstream.ts'),
    String(port),
    String(chunks),
    String(intervalMs),
  ]);
  await waitHttp(`http://127.0.0.1:${port}/v1/models`);
  return { port, child };
}

/** The Node floor (bench/overhead/node-floor.ts) in its own node process (tsx as a loader: one pid to measure). */
async function startNodeFloor(upstreamPort: number): Promise<{ url: string; child: Child }> {
  const port = await freePort();
  const child = start(process.execPath, [
    `--import=${pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href}`,
    join(ROOT, 'bench/overhead/node-floor.ts'),
    String(port),
    String(upstreamPort),
  ]);
  await waitHttp(`http://127.0.0.1:${port}/v1/models`);
  return { url: `http://127.0.0.1:${port}`, child };
}

/**
 * The router in its own process with the default plugin set, configured from files in `dir`/config, access log to a
 * file. `nodeArgs` go to node itself (the profiler uses `--cpu-prof`).
 */
export async function startRouterProcess(
  dir: string,
  upstreamPort: number,
  nodeArgs: string[] = [],
  root = ROOT,
): Promise<{ url: string; metricsUrl: string; child: Child }> {
  const cfgDir = join(dir, 'config');
  mkdirSync(cfgDir, { recursive: true });
  routerConfig(cfgDir, upstreamPort);
  const [rp, mp] = [await freePort(), await freePort()];
  const child = start(
    process.execPath,
    [
      ...nodeArgs,
      // tsx as a loader in this very process (its CLI would fork a second node, which --cpu-prof would miss).
      `--import=${pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href}`,
      join(root, 'src/cli/main.ts'),
      'router',
      '--config-dir',
      cfgDir,
      '--host',
      '127.0.0.1',
      '--port',
      String(rp),
      '--metrics-port',
      String(mp),
      '--debug-port',
      '-1',
    ],
    { ACCESS_LOG_OUTPUT: join(dir, 'access.log'), LOG_LEVEL: 'warn' },
  );
  await waitHttp(`http://127.0.0.1:${rp}/readyz`);
  return { url: `http://127.0.0.1:${rp}`, metricsUrl: `http://127.0.0.1:${mp}/metrics`, child };
}

export async function runOverhead(o: OverheadOptions): Promise<TargetRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'kthena-bench-overhead-'));
  const children: Child[] = [];
  const rows: TargetRow[] = [];
  try {
    const { port: upstreamPort, child: upstream } = await startUpstream(o.chunks, o.intervalMs);
    children.push(upstream);
    const targets: {
      name: TargetRow['name'];
      url: string;
      pid: number | undefined;
      headers?: Record<string, string>;
      metricsUrl?: string;
    }[] = [{ name: 'direct', url: `http://127.0.0.1:${upstreamPort}`, pid: upstream.proc.pid }];

    const router = await startRouterProcess(dir, upstreamPort);
    children.push(router.child);
    targets.push({ name: 'kthena', url: router.url, pid: router.child.proc.pid, metricsUrl: router.metricsUrl });
    if (o.compareWith) {
      const baseline = await startRouterProcess(join(dir, 'baseline'), upstreamPort, [], checkout(o.compareWith, dir));
      children.push(baseline.child);
      targets.push({ name: 'kthena-baseline', url: baseline.url, pid: baseline.child.proc.pid });
      o.log(`kthena-baseline: the router of ${o.compareWith}`);
    }

    const floor = await startNodeFloor(upstreamPort);
    children.push(floor.child);
    targets.push({ name: 'node-floor', url: floor.url, pid: floor.child.proc.pid });

    if (hasCommand('nginx')) {
      const np = await freePort();
      const nginx = start('nginx', [
        '-c',
        nginxConfig(dir, np, upstreamPort),
        '-g',
        'daemon off;',
        '-e',
        join(dir, 'nginx-error.log'),
      ]);
      children.push(nginx);
      await waitHttp(`http://127.0.0.1:${np}/v1/models`);
      targets.push({ name: 'nginx', url: `http://127.0.0.1:${np}`, pid: nginx.proc.pid });
    } else o.log('nginx not installed (apt-get install nginx-light): skipped');
    const portkey = await startPortkey(ROOT, upstreamPort);
    if (portkey.ok) {
      children.push(portkey.target.child);
      targets.push({
        name: 'portkey',
        url: portkey.target.url,
        pid: portkey.target.child.proc.pid,
        headers: portkey.target.headers,
      });
    } else o.log(portkey.reason);

    // A system prompt of promptBytes (default: none) makes the per-request work that scales with the prompt show.
    const system = o.promptBytes ? [{ role: 'system', content: promptText(o.promptBytes) }] : [];
    const body = JSON.stringify({
      model: 'bench',
      stream: true,
      messages: [...system, { role: 'user', content: 'benchmark me' }],
    });
    for (const c of o.concurrency) {
      for (const t of targets) {
        // Warm-up: connections and JIT.
        await runLoad({
          url: t.url,
          path: '/v1/chat/completions',
          body,
          concurrency: Math.min(c, 50),
          streams: Math.min(c, 50),
          headers: t.headers,
        });
        const streams = o.streams(c);
        if (t.metricsUrl) await eventLoopP99Ms(t.metricsUrl); // prom-client restarts the histogram at each scrape
        const cpu0 = t.pid ? cpuMicros(t.pid) : 0;
        const r = await runLoad({
          url: t.url,
          path: '/v1/chat/completions',
          body,
          concurrency: c,
          streams,
          headers: t.headers,
        });
        const cpu1 = t.pid ? cpuMicros(t.pid) : 0;
        const ok = r.samples.filter((s) => s.ok);
        const events = ok.reduce((n, s) => n + s.events, 0);
        const row: TargetRow = {
          name: t.name,
          concurrency: c,
          ttft_p50_ms: round(
            percentile(
              ok.map((s) => s.ttftMs),
              50,
            ),
          ),
          ttft_p99_ms: round(
            percentile(
              ok.map((s) => s.ttftMs),
              99,
            ),
          ),
          total_p50_ms: round(
            percentile(
              ok.map((s) => s.totalMs),
              50,
            ),
          ),
          chunks_per_s: Math.round(events / (r.wallMs / 1000)),
          cpu_us_per_stream: Math.round((cpu1 - cpu0) / Math.max(1, streams)),
          streams,
          errors: r.errors,
          rss_mb: t.pid ? rssMb(t.pid) : undefined,
          event_loop_p99_ms: t.metricsUrl ? await eventLoopP99Ms(t.metricsUrl) : undefined,
        };
        rows.push(row);
        o.log(
          `${t.name.padEnd(10)} c=${String(c).padStart(4)}  ttft p50 ${row.ttft_p50_ms} ms  p99 ${row.ttft_p99_ms} ms  total p50 ${row.total_p50_ms} ms  ${row.chunks_per_s} chunks/s  ${row.cpu_us_per_stream} µs CPU/stream  RSS ${row.rss_mb ?? '–'} MB${row.event_loop_p99_ms === undefined ? '' : `  loop p99 ${row.event_loop_p99_ms} ms`}  errors ${row.errors}`,
        );
      }
    }
  } finally {
    for (const ch of children.reverse()) await ch.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

const round = (x: number) => Math.round(x * 100) / 100;

/** The router's event-loop delay p99 since the previous scrape, in ms (undefined when the scrape fails). */
async function eventLoopP99Ms(metricsUrl: string): Promise<number | undefined> {
  try {
    const text = await (await fetch(metricsUrl)).text();
    const m = /^nodejs_eventloop_lag_p99_seconds (\S+)$/m.exec(text);
    return m ? round(Number(m[1]) * 1000) : undefined;
  } catch {
    return undefined;
  }
}

/** Markdown table with ratios to direct and to nginx at the same concurrency (all from the same run). */
export function markdown(rows: TargetRow[]): string {
  const lines = [
    '| target | concurrency | TTFT p50 ms | TTFT p99 ms | added TTFT p50 / p99 ms | total p50 ms | chunks/s | chunks/s × direct | chunks/s × nginx | CPU µs/stream | CPU × nginx | RSS MB | loop p99 ms | errors |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const d = rows.find((x) => x.name === 'direct' && x.concurrency === r.concurrency);
    const n = rows.find((x) => x.name === 'nginx' && x.concurrency === r.concurrency);
    const add = (a: number, b: number | undefined) =>
      b === undefined ? '' : r.name === 'direct' ? '–' : round(a - b).toString();
    const ratio = (a: number, b: number | undefined) => (b ? round(a / b).toString() : '');
    lines.push(
      `| ${r.name} | ${r.concurrency} | ${r.ttft_p50_ms} | ${r.ttft_p99_ms} | ${add(r.ttft_p50_ms, d?.ttft_p50_ms)} / ${add(r.ttft_p99_ms, d?.ttft_p99_ms)} | ${r.total_p50_ms} | ${r.chunks_per_s} | ${ratio(r.chunks_per_s, d?.chunks_per_s)} | ${ratio(r.chunks_per_s, n?.chunks_per_s)} | ${r.cpu_us_per_stream} | ${r.name === 'direct' ? '' : ratio(r.cpu_us_per_stream, n?.cpu_us_per_stream)} | ${r.rss_mb ?? ''} | ${r.event_loop_p99_ms ?? ''} | ${r.errors} |`,
    );
  }
  return lines.join('\n');
}

/** TTFT p50 per concurrency level, one bar per target (bench/charts.ts: axis ticks, legend beside the plot). */
export function svg(rows: TargetRow[]): string {
  const names = [...new Set(rows.map((r) => r.name))];
  const levels = [...new Set(rows.map((r) => r.concurrency))];
  return groupedBarChart({
    title: 'Router overhead: TTFT p50 by concurrency',
    xLabel: 'concurrent streams',
    yLabel: 'TTFT p50 (ms)',
    groups: levels,
    series: names.map((n) => ({
      name: n,
      values: levels.map((c) => rows.find((x) => x.name === n && x.concurrency === c)?.ttft_p50_ms),
    })),
  });
}

export interface OverheadCommandOptions {
  concurrency: number[];
  /** Streams per concurrency level; default max(30, 3 × concurrency). */
  streams?: number;
  chunks: number;
  intervalMs: number;
  compareWith?: string;
  promptBytes?: number;
  json: boolean;
}

/** `kthena bench overhead`: runs every target, writes JSON + SVG to bench/results/, prints the table. */
export async function overheadCommand(o: OverheadCommandOptions): Promise<void> {
  const json = o.json;
  const log = (l: string) => (json ? process.stderr : process.stdout).write(`${l}\n`);
  const loadBefore = Math.round(loadavg()[0] * 100) / 100;
  const rows = await runOverhead({
    concurrency: o.concurrency,
    streams: (c) => (o.streams ? Math.max(c, o.streams) : Math.max(30, c * 3)),
    chunks: o.chunks,
    intervalMs: o.intervalMs,
    compareWith: o.compareWith,
    promptBytes: o.promptBytes,
    log,
  });
  const machine = {
    cores: cpus().length,
    cpu: cpus()[0]?.model,
    node: process.version,
    at: new Date().toISOString(),
    // The machine may be shared: the 1-minute load average before and after the run says how much.
    loadavg1_before: loadBefore,
    loadavg1_after: Math.round(loadavg()[0] * 100) / 100,
  };
  const resultsDir = join(ROOT, 'bench/results');
  mkdirSync(resultsDir, { recursive: true });
  const stamp = machine.at.replace(/[:.]/g, '-');
  writeFileSync(join(resultsDir, `overhead-${stamp}.json`), `${JSON.stringify({ machine, targets: rows }, null, 2)}\n`);
  writeFileSync(join(resultsDir, `overhead-${stamp}.svg`), svg(rows));
  log(`\n${markdown(rows)}\n\nmachine: ${JSON.stringify(machine)}`);
  if (json) process.stdout.write(`${JSON.stringify({ targets: rows })}\n`);
}
