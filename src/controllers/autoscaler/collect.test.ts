import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { MetricCollector, unstablePod } from './collect.js';
import type { Source, Unit } from './plan.js';

// Two "pods" on loopback: 127.0.0.1 serves real vLLM-shaped metrics; a Prometheus API answers queries.
let server: Server;
let port = 0;
const waiting = 3;
before(async () => {
  server = createServer((req, res) => {
    if (req.url?.startsWith('/api/v1/query')) {
      const q = new URL(req.url, 'http://x').searchParams.get('query');
      res.setHeader('content-type', 'application/json');
      if (q === 'bad')
        return res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [] } }));
      return res.end(
        JSON.stringify({
          status: 'success',
          data: { resultType: 'vector', result: [{ metric: {}, value: [1, '7.5'] }] },
        }),
      );
    }
    res.end(`# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{engine="0"} ${waiting}
vllm:num_requests_waiting{engine="1"} 1
# TYPE vllm:time_to_first_token_seconds histogram
vllm:time_to_first_token_seconds_bucket{le="0.1"} 90
vllm:time_to_first_token_seconds_bucket{le="1"} 100
vllm:time_to_first_token_seconds_bucket{le="+Inf"} 100
vllm:time_to_first_token_seconds_count 100
vllm:time_to_first_token_seconds_sum 5
`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
after(() => server.close());

const entry = (
  name: string,
  o: { ready?: boolean; ip?: string; restarts?: number; phase?: string; role?: string } = {},
): Pod => ({
  metadata: {
    name,
    uid: `uid-${name}`,
    labels: {
      'modelserving.volcano.sh/name': 'ms',
      'modelserving.volcano.sh/entry': 'true',
      'modelserving.volcano.sh/role': o.role ?? 'server',
    },
  },
  status: {
    phase: o.phase ?? 'Running',
    podIP: o.ip ?? '127.0.0.1',
    startTime: '2026-01-01T00:00:00Z',
    conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }],
    containerStatuses: [{ name: 'engine', image: 'x', imageID: '', ready: true, restartCount: o.restarts ?? 0 }],
  },
});

const unit = (sources: Unit['sources'], targets: Record<string, number>): Unit => ({
  key: 'ms',
  namespace: 'default',
  modelServing: 'ms',
  min: 1,
  max: 10,
  targets: new Map(Object.entries(targets)),
  sources,
});
const podSource = (family: string, role?: string): Source => ({
  kind: 'pod',
  families: [family],
  path: '/metrics',
  port,
  selector: { matchLabels: role ? { 'modelserving.volcano.sh/role': role } : {}, matchExpressions: [] },
});

test('gauges are summed over series and over ready pods; unready pods are counted, not scraped', async () => {
  const c = new MetricCollector();
  const u = unit(new Map([['waiting', podSource('vllm:num_requests_waiting')]]), { waiting: 5 });
  const o = await c.observe(u, 3, [entry('a'), entry('b'), entry('c', { ready: false, ip: '127.0.0.2' })], 0);
  assert.equal(o.error, undefined);
  assert.equal(o.metrics?.get('waiting'), 2 * (waiting + 1));
  assert.equal(o.unready, 1);
});

test('histograms give the p95 of the recent window; Prometheus sources are instant queries', async () => {
  const c = new MetricCollector();
  const u = unit(
    new Map<string, any>([
      ['ttft', podSource('vllm:time_to_first_token_seconds')],
      ['ext', { kind: 'prometheus', serverURL: `http://127.0.0.1:${port}`, query: 'sum(x)' }],
    ]),
    { ttft: 1, ext: 1 },
  );
  const o = await c.observe(u, 1, [entry('a')], 0);
  // 100 observations, 90 ≤ 0.1 s: rank 95 lies halfway into (0.1, 1].
  assert.ok(Math.abs(o.metrics!.get('ttft')! - 0.55) < 1e-9, String(o.metrics!.get('ttft')));
  assert.equal(o.external.get('ext'), 7.5);
  const bad = unit(
    new Map([['ext', { kind: 'prometheus', serverURL: `http://127.0.0.1:${port}`, query: 'bad' } as any]]),
    { ext: 1 },
  );
  assert.match((await c.observe(bad, 1, [], 0)).error!, /scalar or one sample \(got vector of 0\)/);
});

test('a group with a restarted, failed or terminating pod, no pods, or a failed scrape is skipped with a reason', async () => {
  const c = new MetricCollector();
  const u = unit(new Map([['waiting', podSource('vllm:num_requests_waiting')]]), { waiting: 5 });
  assert.match((await c.observe(u, 1, [entry('a', { restarts: 1 })], 0)).error!, /restarted containers/);
  assert.equal((await c.observe(u, 1, [entry('a', { restarts: 1 })], 0)).metrics, undefined);
  assert.match((await c.observe(u, 1, [], 0)).error!, /no entry pods match/);
  assert.match((await c.observe(u, 1, [entry('a', { ip: '127.0.0.3' })], 0)).error!, /scrape of pod a failed/);
  const missing = unit(new Map([['waiting', podSource('no_such_metric')]]), { waiting: 5 });
  assert.match((await c.observe(missing, 1, [entry('a')], 0)).error!, /metric no_such_metric not found/);
  assert.equal(unstablePod([entry('x', { phase: 'Failed' })]), 'pod x failed');
  const noSource = unit(new Map(), { waiting: 5 });
  assert.match((await c.observe(noSource, 1, [entry('a')], 0)).error!, /no metricSources for waiting/);
});

test('role selectors pick only that role', async () => {
  const c = new MetricCollector();
  const u = unit(new Map([['waiting', podSource('vllm:num_requests_waiting', 'prefill')]]), { waiting: 5 });
  const o = await c.observe(
    u,
    1,
    [entry('p', { role: 'prefill' }), entry('d', { role: 'decode', ip: '127.0.0.4' })],
    0,
  );
  assert.equal(o.metrics?.get('waiting'), waiting + 1, 'the decode pod (unreachable IP) was not scraped');
});

test("built-in metric names read vLLM's or SGLang's family from the engine port in the pod spec", async () => {
  const c = new MetricCollector();
  const u = unit(
    new Map([
      [
        'q',
        {
          kind: 'pod',
          families: ['sglang:num_queue_reqs', 'vllm:num_requests_waiting'],
          path: '/metrics',
          selector: {},
        } as Source,
      ],
    ]),
    { q: 5 },
  );
  const p = entry('a');
  p.spec = {
    containers: [
      {
        name: 'engine',
        ports: [
          { containerPort: 9, name: 'grpc' },
          { containerPort: port, name: 'http' },
        ],
      },
    ],
  };
  const o = await c.observe(u, 1, [p], 0);
  assert.equal(o.error, undefined);
  assert.equal(o.metrics?.get('q'), waiting + 1, 'fell through to the vLLM name on the port named http');
});

test('SLO units: TTFT quantile merged across ready pods and their request rate, one GET per URL', async () => {
  let gets = 0;
  const c = new MetricCollector(async (url, signal) => {
    gets++;
    const res = await fetch(url, { signal });
    return res.text();
  });
  const u: Unit = {
    ...unit(new Map([['waiting', podSource('vllm:num_requests_waiting')]]), { waiting: 5 }),
    slo: {
      ttftSec: 1,
      quantile: 0.95,
      utilization: 0.8,
      lookaheadMs: 60_000,
      ttft: { ...(podSource('vllm:time_to_first_token_seconds') as Extract<Source, { kind: 'pod' }>) },
    },
  };
  const pods = [entry('a'), { ...entry('b'), metadata: { ...entry('b').metadata, uid: 'uid-b' } }];
  // 10 s after the pods started: no snapshot yet, so the whole life counts — 100 requests per pod in 10 s.
  const now = Date.parse('2026-01-01T00:00:10Z');
  const o = await c.observe(u, 2, pods, now);
  // Both test pods have the same address: the gauge group and the SLO histogram share that URL's one GET.
  assert.equal(gets, 1);
  assert.equal(o.ready, 2);
  assert.equal(o.slo?.requests, 200);
  assert.ok(Math.abs(o.slo!.rate - 20) < 1e-9, String(o.slo?.rate));
  assert.ok(Math.abs(o.slo!.ttftSec! - 0.55) < 1e-9);
  // 30 s later nothing new happened: the window (since the snapshot ≥ 30 s old) saw no requests.
  const later = await c.observe(u, 2, pods, now + 30_000);
  assert.equal(later.slo?.requests, 0);
  assert.equal(later.slo?.rate, 0);
  assert.equal(later.slo?.ttftSec, undefined);
});
