import assert from 'node:assert/strict';
import { test } from 'node:test';
import { candidateHyperNodes, matchesLabelSelector, resolveHyperNodes } from './topology.js';

const nodes = [
  { name: 'n0', labels: { rack: 'r0' } },
  { name: 'n1', labels: { rack: 'r0' } },
  { name: 'n2', labels: { rack: 'r1' } },
];

test('resolves leaves by exact, regex and label selectors and inner vertices recursively', () => {
  const resolved = resolveHyperNodes(
    [
      {
        metadata: { name: 'r0' },
        spec: { tier: 1, members: [{ type: 'Node', selector: { labelMatch: { matchLabels: { rack: 'r0' } } } }] },
      },
      {
        metadata: { name: 'r1' },
        spec: { tier: 1, members: [{ type: 'Node', selector: { exactMatch: { name: 'n2' } } }] },
      },
      {
        metadata: { name: 'top' },
        spec: { tier: 2, members: [{ type: 'HyperNode', selector: { regexMatch: { pattern: '^r' } } }] },
      },
      {
        metadata: { name: 'bad' },
        spec: { tier: 1, members: [{ type: 'Node', selector: { regexMatch: { pattern: '(' } } }] },
      },
      {
        metadata: { name: 'loop' },
        spec: { tier: 3, members: [{ type: 'HyperNode', selector: { exactMatch: { name: 'loop' } } }] },
      },
    ],
    nodes,
  );
  const byName = Object.fromEntries(resolved.map((r) => [r.name, [...r.nodes].sort()]));
  assert.deepEqual(byName, { bad: [], loop: [], r0: ['n0', 'n1'], r1: ['n2'], top: ['n0', 'n1', 'n2'] });
  assert.deepEqual(
    candidateHyperNodes(resolved, 2, ['n2']).map((h) => h.name),
    ['r1', 'top'],
  );
  assert.deepEqual(
    candidateHyperNodes(resolved, 1).map((h) => h.name),
    ['r1', 'r0'],
  );
});

test('label selector expressions', () => {
  const l = { a: '1' };
  assert.equal(matchesLabelSelector(l, { matchExpressions: [{ key: 'a', operator: 'In', values: ['1'] }] }), true);
  assert.equal(matchesLabelSelector(l, { matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['1'] }] }), false);
  assert.equal(matchesLabelSelector(l, { matchExpressions: [{ key: 'b', operator: 'Exists' }] }), false);
  assert.equal(matchesLabelSelector(l, { matchExpressions: [{ key: 'b', operator: 'DoesNotExist' }] }), true);
  assert.equal(matchesLabelSelector(l, undefined), false);
});
