// The Grafana dashboards in deploy/grafana never drift from the code: every metric a query names is registered by
// the router (default configuration, as deployed) or by the controller manager, and each file is a well-formed
// dashboard (unique panel ids, panels inside the 24-column grid without overlap, the datasource variable).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ManagerMetrics } from '../../src/controllers/manager.js';
import { type Harness, startHarness } from '../../src/router/testing/harness.js';

const DIR = join(import.meta.dirname, '..', '..', 'deploy', 'grafana');
const METRIC = /\b(?:kthena_[a-z0-9_]+|controller_runtime_[a-z0-9_]+|workqueue_[a-z0-9_]+)\b/g;
const SUFFIX = /_(bucket|sum|count)$/;

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { uid: string };
  targets?: { refId: string; expr: string }[];
}

const load = (file: string) =>
  JSON.parse(readFileSync(join(DIR, file), 'utf8')) as {
    uid: string;
    panels: Panel[];
    templating: { list: { name: string }[] };
  };
const metricsIn = (d: { panels: Panel[] }) =>
  new Set(d.panels.flatMap((p) => p.targets ?? []).flatMap((t) => t.expr.match(METRIC) ?? []));

let h: Harness;
let routerNames: Set<string>;
before(async () => {
  h = await startHarness({});
  routerNames = new Set((await h.router.metrics.registry.getMetricsAsJSON()).map((m) => m.name));
});
after(() => h.close());

function unregistered(used: Set<string>, registered: Set<string>): string[] {
  return [...used].filter((m) => !registered.has(m) && !registered.has(m.replace(SUFFIX, ''))).sort();
}

test('the dashboards ship: one for the router, one for the controllers', () => {
  assert.deepEqual(
    readdirSync(DIR)
      .filter((f) => f.endsWith('.json'))
      .sort(),
    ['kthena-controllers.json', 'kthena-router.json'],
  );
});

test("every metric in the router dashboard's queries is registered by a router with the default configuration", () => {
  const used = metricsIn(load('kthena-router.json'));
  assert.ok(used.size >= 25, `the router dashboard uses ${used.size} metrics`);
  assert.deepEqual(unregistered(used, routerNames), []);
});

test("every metric in the controllers dashboard's queries is registered by the controller manager", async () => {
  const names = new Set((await new ManagerMetrics().registry.getMetricsAsJSON()).map((m) => m.name));
  const used = metricsIn(load('kthena-controllers.json'));
  for (const conventional of ['workqueue_depth', 'workqueue_adds_total', 'controller_runtime_reconcile_total'])
    assert.ok(used.has(conventional), `the controllers dashboard uses ${conventional}`);
  assert.deepEqual(unregistered(used, names), []);
});

test('each dashboard is well formed: unique ids, a datasource variable, panels on the grid without overlap', () => {
  for (const file of ['kthena-router.json', 'kthena-controllers.json']) {
    const d = load(file);
    assert.ok(d.uid, file);
    assert.ok(
      d.templating.list.some((v) => v.name === 'datasource'),
      file,
    );
    const ids = d.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, `${file}: unique panel ids`);
    const cells = new Set<string>();
    for (const p of d.panels) {
      const g = p.gridPos;
      assert.ok(g.x >= 0 && g.w > 0 && g.x + g.w <= 24, `${file}: "${p.title}" inside the 24 columns`);
      for (let x = g.x; x < g.x + g.w; x++)
        for (let y = g.y; y < g.y + g.h; y++) {
          assert.ok(!cells.has(`${x},${y}`), `${file}: "${p.title}" overlaps another panel`);
          cells.add(`${x},${y}`);
        }
      if (p.type === 'row') continue;
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a template literal
      assert.equal(p.datasource?.uid, '${datasource}', `${file}: "${p.title}" uses the datasource variable`);
      assert.ok(p.targets?.length, `${file}: "${p.title}" has queries`);
    }
  }
});
