import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ModelServer, ModelServing } from '../../api/index.js';
import { DEMAND_ANNOTATION, DEMAND_FRESH_MS, frontingServers, pendingDemand } from './demand.js';

const ms = {
  metadata: { name: 'llm', namespace: 'a' },
  spec: {
    template: {
      roles: [
        {
          name: 'server',
          entryTemplate: { metadata: { labels: { app: 'llm', 'model-uid': 'u1' } }, spec: { containers: [] } },
        },
      ],
    },
  },
} as unknown as ModelServing;

const server = (name: string, ns: string, matchLabels: Record<string, string>, annotations?: Record<string, string>) =>
  ({
    metadata: { name, namespace: ns, annotations },
    spec: { workloadSelector: { matchLabels } },
  }) as unknown as ModelServer;

test('a ModelServer fronts a ModelServing when its selector is satisfied by the pods’ labels, in the same namespace', () => {
  const servers = [
    server('by-name', 'a', { 'modelserving.volcano.sh/name': 'llm' }),
    server('by-template', 'a', { app: 'llm', 'model-uid': 'u1' }),
    server('other-ns', 'b', { app: 'llm' }),
    server('other-app', 'a', { app: 'other' }),
    server('half', 'a', { app: 'llm', tier: 'x' }),
    server('empty', 'a', {}),
  ];
  assert.deepEqual(
    frontingServers(ms, servers).map((s) => s.metadata?.name),
    ['by-name', 'by-template'],
  );
});

test('demand counts when fresh and newer than the last scale to zero', () => {
  const now = Date.parse('2026-01-01T01:00:00Z');
  const at = (iso: string) => server('s', 'a', {}, { [DEMAND_ANNOTATION]: iso });
  assert.equal(pendingDemand([at('2026-01-01T00:59:50Z')], now, 0), Date.parse('2026-01-01T00:59:50Z'));
  assert.equal(
    pendingDemand([at('2026-01-01T00:59:50Z')], now, Date.parse('2026-01-01T00:59:55Z')),
    undefined,
    'older than the last zero',
  );
  assert.equal(pendingDemand([at(new Date(now - DEMAND_FRESH_MS - 1).toISOString())], now, 0), undefined, 'stale');
  assert.equal(pendingDemand([at('not a time'), server('t', 'a', {})], now, 0), undefined, 'malformed or absent');
});
