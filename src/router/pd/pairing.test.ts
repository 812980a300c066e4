// Pair selection: decode by load (cache-affinity scorers excluded), prefill by every scorer within the decode's
// group, and a trial order that skips whatever already failed in this request.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Scheduler } from '../scheduler/framework.js';
import type { SchedulerPlugin } from '../scheduler/plugin.js';
import { buildPdTopology } from '../store/pd-topology.js';
import type { ServerEndpoint } from '../store/store.js';
import { ctxFor, ep, seeded } from '../testing/fixtures.js';
import { PairPlanner, pairSequence, prefillsByGroup } from './pairing.js';

const pd = { groupKey: 'g', prefillLabels: { role: 'p' }, decodeLabels: { role: 'd' } };
function labelled(name: string, group: string, role: string, inflight = 0) {
  const e = ep(name, { inflight });
  e.state.labels = { g: group, role };
  return e;
}
const names = (eps: readonly ServerEndpoint[]) => eps.map((e) => e.state.name);

/** Scores by fewer in-flight requests. */
const load: SchedulerPlugin = { name: 'least-request', score: (_c, eps) => eps.map((e) => 100 - e.state.inflight) };
/** Pretends the prompt is cached on endpoints whose name ends in "-hot". */
const cache: SchedulerPlugin = {
  name: 'prefix-cache',
  score: (_c, eps) => eps.map((e) => (e.state.name.endsWith('-hot') ? 1000 : 0)),
};

function planner(filters: SchedulerPlugin[] = []) {
  return new PairPlanner(
    new Scheduler({
      filters,
      scorers: [
        { plugin: load, weight: 1 },
        { plugin: cache, weight: 1 },
      ],
      topN: 5,
      rand: seeded(1),
    }),
  );
}

test('decodes ranked by load only; prefills of the same group ranked by load and cache', () => {
  const topo = buildPdTopology(pd, [
    labelled('d-a-hot', 'a', 'd', 5),
    labelled('d-b', 'b', 'd', 1),
    labelled('p-a', 'a', 'p', 0),
    labelled('p-b-hot', 'b', 'p', 9),
    labelled('p-b', 'b', 'p', 0),
  ]);
  const pl = planner();
  const ctx = ctxFor('m');
  const ranked = pl.rankDecodes(ctx, topo);
  assert.deepEqual(names(ranked.decodes), ['d-b', 'd-a-hot'], 'a cache hit does not attract decode traffic');
  assert.equal(ranked.scores[0].perPlugin['prefix-cache'], undefined);
  const prefills = prefillsByGroup(pl, ctx, topo);
  assert.deepEqual(names(prefills(ranked.decodes[0])), ['p-b-hot', 'p-b'], 'cache affinity wins for prefill');
  assert.deepEqual(names(prefills(ranked.decodes[1])), ['p-a'], 'only the same group');
  const pairs = [...pairSequence(ranked.decodes, prefills, new Set())].map(
    (p) => `${p.prefill.state.name}>${p.decode.state.name}`,
  );
  assert.deepEqual(pairs, ['p-b-hot>d-b', 'p-b>d-b', 'p-a>d-a-hot']);
});

test('failed endpoints are skipped while iterating: a dead prefill is replaced in its group, a dead decode ends it', () => {
  const d1 = labelled('d1', 'a', 'd');
  const d2 = labelled('d2', 'a', 'd');
  const p1 = labelled('p1', 'a', 'p');
  const p2 = labelled('p2', 'a', 'p');
  const failed = new Set<string>();
  const seen: string[] = [];
  for (const pair of pairSequence([d1, d2], () => [p1, p2], failed)) {
    seen.push(`${pair.prefill.state.name}>${pair.decode.state.name}`);
    if (pair.prefill === p1) failed.add(p1.state.key);
    else if (pair.decode === d1) failed.add(d1.state.key);
  }
  assert.deepEqual(seen, ['p1>d1', 'p2>d1', 'p2>d2']);
});

test('no decode pod → a scheduling error; a group whose prefills are all filtered out yields no pair', () => {
  const pl = planner([{ name: 'busy', filter: (_c, eps) => eps.filter((e) => e.state.inflight < 3) }]);
  const ctx = ctxFor('m');
  assert.throws(() => pl.rankDecodes(ctx, buildPdTopology(pd, [labelled('p', 'a', 'p')])), /no decode pod found/);
  const topo = buildPdTopology(pd, [labelled('d', 'a', 'd'), labelled('p', 'a', 'p', 7)]);
  const r = pl.rankDecodes(ctx, topo);
  assert.deepEqual([...pairSequence(r.decodes, prefillsByGroup(pl, ctx, topo), new Set())], []);
});
