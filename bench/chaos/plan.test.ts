import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseKinds } from './cli.js';
import { classify, FAULT_KINDS, judge, planFaults, sumByLabel, sumMetrics, type Verdicts } from './plan.js';

test('planFaults: replayable from its seed, every kind once per round, nothing in warm-up or cool-down', () => {
  const kinds = FAULT_KINDS.slice(0, 7);
  const a = planFaults({ seconds: 30, seed: 7, kinds, gapMs: 3000 });
  assert.deepEqual(planFaults({ seconds: 30, seed: 7, kinds, gapMs: 3000 }), a);
  assert.notDeepEqual(planFaults({ seconds: 30, seed: 8, kinds, gapMs: 3000 }), a);
  assert.deepEqual(
    a.map((f) => f.atMs),
    [2000, 5000, 8000, 11000, 14000, 17000, 20000, 23000, 26000],
  );
  assert.deepEqual([...new Set(a.slice(0, 7).map((f) => f.kind))].sort(), [...kinds].sort());
  for (const f of a) assert.ok(f.pick >= 0 && f.pick < 1);
  assert.deepEqual(planFaults({ seconds: 4, seed: 1, kinds }), [], 'too short for any fault');
  assert.deepEqual(planFaults({ seconds: 60, seed: 1, kinds: [] }), []);
});

test('classify: only a clean [DONE] is ok; nothing after the status is lost; bytes then a break is cut', () => {
  const o = { status: 200, firstByte: true, done: true, abortedByClient: false };
  assert.equal(classify(o), 'ok');
  assert.equal(classify({ ...o, done: false }), 'cut-mid-stream');
  assert.equal(classify({ ...o, done: false, firstByte: false }), 'lost-before-first-byte');
  assert.equal(classify({ ...o, status: 503, done: false }), 'lost-before-first-byte', 'an error status is a loss');
  assert.equal(classify({ ...o, status: 0, done: false, firstByte: false }), 'lost-before-first-byte');
  assert.equal(classify({ ...o, done: false, abortedByClient: true }), 'client-abort');
});

const good: Verdicts = {
  counts: { ok: 10, 'lost-before-first-byte': 0, 'cut-mid-stream': 0, 'client-abort': 2 },
  midStreamFailover: true,
  inflightAtEnd: { a: 0, b: 0 },
  orphans: [],
  notConverged: [],
  lostWrites: [],
  minOk: 1,
};

test('judge: every invariant holds on a clean run, and each breaks on its own failure', () => {
  assert.ok(judge(good).every((i) => i.held));
  const broken = (v: Partial<Verdicts>) =>
    judge({ ...good, ...v })
      .filter((i) => !i.held)
      .map((i) => i.name);
  assert.deepEqual(broken({ counts: { ...good.counts, 'lost-before-first-byte': 1 } }), [
    'no request lost before its first byte',
  ]);
  assert.deepEqual(broken({ counts: { ...good.counts, 'cut-mid-stream': 1 } }), [
    'no stream cut (mid-stream failover on)',
  ]);
  assert.deepEqual(broken({ counts: { ...good.counts, 'cut-mid-stream': 1 }, midStreamFailover: false }), []);
  assert.deepEqual(broken({ counts: { ...good.counts, ok: 0 } }), ['requests served']);
  assert.deepEqual(broken({ inflightAtEnd: { a: 0, b: 2 } }), ['router in-flight gauges back to 0']);
  assert.deepEqual(broken({ orphans: ['engine x (pid 1)'] }), ['no orphan process']);
  assert.deepEqual(broken({ notConverged: ['a: spec 3'] }), ['ModelServings converge to spec']);
  assert.deepEqual(broken({ lostWrites: ['weights'] }), ['no acknowledged write lost']);
});

test('metrics parsing: sums over labels, and by one label', () => {
  const text = [
    '# HELP x y',
    'kthena_router_active_requests 2',
    'kthena_router_active_upstream_requests{model_server="a"} 1',
    'kthena_router_active_upstream_requests{model_server="b"} 3',
    'kthena_router_upstream_attempts_total{model_server="a",outcome="ok"} 5',
    'kthena_router_upstream_attempts_total{model_server="b",outcome="ok"} 4',
    'kthena_router_upstream_attempts_total{model_server="b",outcome="connect_error"} 1',
  ].join('\n');
  assert.deepEqual(
    sumMetrics(text, ['kthena_router_active_requests', 'kthena_router_active_upstream_requests', 'none']),
    {
      kthena_router_active_requests: 2,
      kthena_router_active_upstream_requests: 4,
      none: 0,
    },
  );
  assert.deepEqual(sumByLabel(text, 'kthena_router_upstream_attempts_total', 'outcome'), { ok: 9, connect_error: 1 });
});

test('--faults: known kinds only, named in the error', () => {
  assert.deepEqual(parseKinds('engine-sigkill, scale'), ['engine-sigkill', 'scale']);
  assert.throws(() => parseKinds('engine-sigkill,meteor'), /unknown fault "meteor" \(known: engine-sigkill/);
  assert.throws(() => parseKinds(','), /at least one/);
});
