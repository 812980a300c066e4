// The debug dumps of Gateway API objects (upstream's /debug/config_dump/{gateways,httproutes,inferencepools}).
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { RequestHandler } from '../handler.js';
import type { RouterConfiguration } from '../scheduler/config.js';
import type { Scheduler } from '../scheduler/framework.js';
import { RouterStore } from '../store/store.js';
import { debugHandler, type GatewayApiObject } from './debug.js';

async function serve(gatewayApi?: () => Record<'gateways' | 'httproutes' | 'inferencepools', GatewayApiObject[]>) {
  const h = debugHandler({
    store: new RouterStore(),
    handler: {} as RequestHandler,
    scheduler: { plugins: [] } as unknown as Scheduler,
    config: {} as RouterConfiguration,
    gatewayApi,
  });
  const server = createServer(h);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/debug/config_dump`;
  return { base, close: () => new Promise((r) => server.close(r)) };
}

test('gateways, httproutes and inferencepools are dumped with spec and status; one by namespace and name', async () => {
  const gw = { metadata: { name: 'gw', namespace: 'default' }, spec: { listeners: [] }, status: { conditions: [] } };
  const pool = { metadata: { name: 'p', namespace: 'models' }, spec: { selector: {} } };
  const s = await serve(() => ({ gateways: [gw], httproutes: [], inferencepools: [pool] }));
  try {
    assert.deepEqual(await (await fetch(`${s.base}/gateways`)).json(), {
      gateways: [{ name: 'gw', namespace: 'default', spec: { listeners: [] }, status: { conditions: [] } }],
    });
    assert.deepEqual(await (await fetch(`${s.base}/httproutes`)).json(), { httproutes: [] });
    const one = await fetch(`${s.base}/namespaces/models/inferencepools/p`);
    assert.deepEqual(await one.json(), { name: 'p', namespace: 'models', spec: { selector: {} }, status: null });
    const missing = await fetch(`${s.base}/namespaces/default/inferencepools/p`);
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { error: 'InferencePool not found' });
  } finally {
    await s.close();
  }
});

test('without Gateway API mode the dumps are empty lists', async () => {
  const s = await serve();
  try {
    assert.deepEqual(await (await fetch(`${s.base}/gateways`)).json(), { gateways: [] });
  } finally {
    await s.close();
  }
});
