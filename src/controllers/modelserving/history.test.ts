import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatHistory, formatRevision, history, parseTarget, planUndo, RolloutError } from './history.js';
import { buildControllerRevision, modelServingRevision } from './revision.js';
import { modelServing, role, setImage } from './testkit.js';
import type { ModelServing } from './types.js';

function withHistory(): { ms: ModelServing; crs: ReturnType<typeof buildControllerRevision>[] } {
  const ms = modelServing('llm', 2, [role('decode', 1, 0)]);
  const crs = [];
  for (const [n, image, cause] of [
    [1, 'engine:v1', 'create'],
    [2, 'engine:v2', undefined],
    [3, 'engine:v3', 'bump to v3'],
  ] as const) {
    setImage(ms, 'decode', image);
    ms.metadata.annotations = cause ? { 'kubernetes.io/change-cause': cause } : {};
    const roles = structuredClone(ms.spec.template.roles);
    crs.push(buildControllerRevision(ms, modelServingRevision(roles), roles, n));
  }
  return { ms, crs };
}

test('targets: modelserving/NAME and TYPE NAME; anything else is a clear error', () => {
  assert.equal(parseTarget(['modelserving/llm']), 'llm');
  assert.equal(parseTarget(['modelservings', 'llm']), 'llm');
  assert.equal(parseTarget(['modelserving.workload.serving.volcano.sh/llm']), 'llm');
  assert.throws(() => parseTarget(['deployment/llm']), /doesn't have a resource type "deployment"/);
  assert.throws(() => parseTarget(['modelserving/']), /a name is required/);
  assert.throws(() => parseTarget(['modelserving']), /a name is required/);
  assert.throws(() => parseTarget(['modelserving/Bad_Name']), /invalid resource name/);
  assert.throws(() => parseTarget(['modelserving/a', 'b']), /unexpected argument "b"/);
  assert.throws(() => parseTarget([]), RolloutError);
});

test('history lists our revisions oldest first with change-cause; others are ignored', () => {
  const { ms, crs } = withHistory();
  const foreign = structuredClone(crs[0]);
  foreign.metadata!.ownerReferences![0].uid = 'someone-else';
  const entries = history(ms, [crs[2], foreign, crs[0], crs[1]]);
  assert.deepEqual(
    entries.map((e) => e.number),
    [1, 2, 3],
  );
  assert.equal(
    formatHistory(ms, entries),
    [
      'modelserving.workload.serving.volcano.sh/llm',
      'REVISION  CHANGE-CAUSE',
      '1         create',
      '2         <none>',
      '3         bump to v3',
      '',
    ].join('\n'),
  );
  assert.match(formatRevision(ms, entries, 2), /with revision #2\n[\s\S]*image: engine:v2/);
  assert.throws(() => formatRevision(ms, entries, 9), /unable to find the specified revision 9/);
});

test('undo goes to the previous revision, keeps counts, skips when already there', () => {
  const { ms, crs } = withHistory();
  const entries = history(ms, crs);
  ms.spec.template.roles[0].replicas = 5; // a replica change since: not part of a revision, kept
  const d = planUndo(ms, entries);
  assert.equal(d.kind, 'rollback');
  assert.ok(d.kind === 'rollback');
  assert.equal(d.number, 2);
  assert.equal(d.roles[0].entryTemplate.spec?.containers[0].image, 'engine:v2');
  assert.equal(d.roles[0].replicas, 5);
  const to1 = planUndo(ms, entries, 1);
  assert.ok(to1.kind === 'rollback' && to1.roles[0].entryTemplate.spec?.containers[0].image === 'engine:v1');
  const same = planUndo(ms, entries, 3);
  assert.equal(same.kind, 'skip');
  assert.throws(() => planUndo(ms, entries, 7), /unable to find the specified revision 7/);
  assert.throws(() => planUndo(ms, []), /no rollout history found/);
  assert.throws(() => planUndo(ms, [entries[2]]), /no revision to roll back to/);
});

test('undo when the current template was never recorded goes to the newest recorded one', () => {
  const { ms, crs } = withHistory();
  setImage(ms, 'decode', 'engine:v4');
  const d = planUndo(ms, history(ms, crs));
  assert.ok(d.kind === 'rollback' && d.number === 3);
});
