// How far one engine-sim process can go: runs `kthena engine-sim --replicas R --speedup X` as a child process,
// drives `streams` concurrent streaming completions against it (closed loop, spread over the replicas) from
// this process, then compares what clients saw (wall time × speedup) with what the engines simulated
// (vllm:e2e_request_latency_seconds and vllm:time_to_first_token_seconds sums). An error under 5% means the
// machine kept simulated timing faithful at that load.
//
//   npx tsx src/engine/tools/capacity.ts --replicas 3 --streams 300 --speedup 10 --duration 20
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { parseArgs } from 'node:util';

const WORDS = 'the of and to in is was for on that with as it by at from his an be has are this or were which'.split(
  ' ',
);

function promptOf(n: number, seed: number): string {
  let s = seed >>> 0 || 1;
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out.push(WORDS[s % WORDS.length]);
  }
  return out.join(' ');
}

function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

function metricSum(text: string, name: string): number {
  let s = 0;
  for (const line of text.split('\n'))
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) s += Number(line.split(' ').at(-1));
  return s;
}

async function get(url: string): Promise<string> {
  const r = await fetch(url);
  return r.text();
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      replicas: { type: 'string', default: '3' },
      streams: { type: 'string', default: '300' },
      speedup: { type: 'string', default: '1' },
      profile: { type: 'string', default: 'deepseek-r1-distill-qwen-7b' },
      'prompt-tokens': { type: 'string', default: '1000' },
      output: { type: 'string', default: '128' },
      duration: { type: 'string', default: '20' },
      'stream-interval': { type: 'string' },
    },
  });
  const replicas = Number(values.replicas);
  const streams = Number(values.streams);
  const speedup = Number(values.speedup);
  const durationMs = Number(values.duration) * 1000;
  const args = [
    '--import',
    'tsx',
    'src/cli/main.ts',
    'engine-sim',
    '--enable-admin', // reads /admin/stats
    '--port',
    '0',
    '--host',
    '127.0.0.1',
    '--model',
    'cap',
    '--replicas',
    String(replicas),
    '--speedup',
    String(speedup),
    '--profile',
    values.profile!,
  ];
  if (values['stream-interval']) args.push('--stream-interval', values['stream-interval']);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const ports = await new Promise<number[]>((resolve, reject) => {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      out += d;
      const p = [...out.matchAll(/port=(\d+)/g)].map((m) => Number(m[1]));
      if (p.length >= replicas) resolve(p);
    });
    child.once('exit', (c) => reject(new Error(`engine-sim exited ${c}`)));
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
  const cpu0 = cpuSeconds(child.pid!);
  const selfCpu0 = process.cpuUsage();
  const t0 = performance.now();
  let stop = false;
  let completed = 0;
  let failed = 0;
  let e2eWall = 0;
  let ttftWall = 0;
  let chunks = 0;
  let seq = 0;
  const one = (port: number): Promise<void> =>
    new Promise((resolve) => {
      const body = JSON.stringify({
        model: 'cap',
        prompt: promptOf(Number(values['prompt-tokens']), ++seq),
        max_tokens: Number(values.output),
        ignore_eos: true,
        stream: true,
      });
      const start = performance.now();
      let first = -1;
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          path: '/v1/completions',
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json' },
        },
        (res) => {
          res.setEncoding('utf8');
          res.on('data', (d: string) => {
            if (first < 0) first = performance.now();
            for (let i = d.indexOf('data: '); i >= 0; i = d.indexOf('data: ', i + 6)) chunks++;
          });
          res.on('end', () => {
            if (res.statusCode === 200) {
              completed++;
              e2eWall += performance.now() - start;
              ttftWall += first - start;
            } else failed++;
            resolve();
          });
        },
      );
      req.on('error', () => {
        failed++;
        resolve();
      });
      req.end(body);
    });
  const users = Array.from({ length: streams }, async (_, i) => {
    const port = ports[i % ports.length];
    while (!stop) await one(port);
  });
  setTimeout(() => {
    stop = true;
  }, durationMs);
  await Promise.all(users);
  const wall = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(child.pid!) - cpu0;
  const selfCpu = process.cpuUsage(selfCpu0);
  let simE2e = 0;
  let simTtft = 0;
  let simCount = 0;
  let lag = 0;
  let maxLag = 0;
  let busy = 0;
  let steps = 0;
  for (const p of ports) {
    const m = await get(`http://127.0.0.1:${p}/metrics`);
    simE2e += metricSum(m, 'vllm:e2e_request_latency_seconds_sum');
    simTtft += metricSum(m, 'vllm:time_to_first_token_seconds_sum');
    simCount += metricSum(m, 'vllm:e2e_request_latency_seconds_count');
    const st = JSON.parse(await get(`http://127.0.0.1:${p}/admin/stats`)) as {
      loop: { lagSeconds: number; maxLagSeconds: number; busySeconds: number; steps: number };
    };
    lag += st.loop.lagSeconds;
    busy += st.loop.busySeconds;
    steps += st.loop.steps;
    maxLag = Math.max(maxLag, st.loop.maxLagSeconds);
  }
  child.kill('SIGTERM');
  agent.destroy();
  const clientE2e = (e2eWall / 1000) * speedup;
  const clientTtft = (ttftWall / 1000) * speedup;
  process.stdout.write(
    `${JSON.stringify({
      replicas,
      streams,
      speedup,
      profile: values.profile,
      completed,
      failed,
      simCompleted: simCount,
      wallSec: Number(wall.toFixed(1)),
      engineCpuCores: Number((cpu / wall).toFixed(2)),
      clientCpuCores: Number(((selfCpu.user + selfCpu.system) / 1e6 / wall).toFixed(2)),
      loadAvg1m: Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]),
      sseChunksPerSec: Math.round(chunks / wall),
      meanE2eClientSimSec: Number((clientE2e / completed).toFixed(4)),
      meanE2eEngineSec: Number((simE2e / simCount).toFixed(4)),
      e2eErrorPct: Number(((clientE2e / completed / (simE2e / simCount) - 1) * 100).toFixed(2)),
      meanTtftClientSimSec: Number((clientTtft / completed).toFixed(4)),
      meanTtftEngineSec: Number((simTtft / simCount).toFixed(4)),
      ttftErrorPct: Number(((clientTtft / completed / (simTtft / simCount) - 1) * 100).toFixed(2)),
      stepsPerWallSec: Math.round(steps / wall),
      meanStepSimMs: Number(((busy / Math.max(steps, 1)) * 1000).toFixed(2)),
      meanLateSimMsPerStep: Number(((lag / Math.max(steps, 1)) * 1000).toFixed(2)),
      maxLagSimSec: Number(maxLag.toFixed(4)),
    })}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
