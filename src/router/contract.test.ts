// Contract tests: for every field of ModelRoute, ModelServer and the router configuration that the router reads,
// set it and check the behaviour it is meant to produce — the exact outcome before and after, not merely "something
// changed" (an error status is a change too, and must not pass for the intended behaviour).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { type FakeEngine, startFakeEngine } from './testing/fake-engine.js';
import { endpointYaml, type Harness, routeYaml, serverYaml, startHarness } from './testing/harness.js';

const chatBody = (model = 'm') => ({ model, messages: [{ role: 'user', content: 'hello there' }] });
const server = (name: string, app: string, extra = '') =>
  serverYaml(
    name,
    `  inferenceEngine: vLLM\n  workloadSelector: {matchLabels: {app: ${app}}}\n  workloadPort: {port: 8000}\n${extra}`,
  );
const twoServers = `${server('sa', 'a')}---\n${server('sb', 'b')}`;
const route = (spec: string) => routeYaml('r', spec);

describe('contract: every field changes behaviour', () => {
  let A: FakeEngine;
  let B: FakeEngine;
  let h: Harness;
  before(async () => {
    A = await startFakeEngine('A', { models: ['base', 'l1'] });
    B = await startFakeEngine('B', { models: ['base'] });
    h = await startHarness({
      'eps.yaml': `${endpointYaml('a', A, { app: 'a' })}---\n${endpointYaml('b', B, { app: 'b' })}`,
      'servers.yaml': twoServers,
      'route.yaml': route('  modelName: m\n  rules:\n  - targetModels: [{modelServerName: sa}]\n'),
    });
  });
  after(async () => {
    await h.close();
    await A.close();
    await B.close();
  });
  const apply = async (files: Record<string, string>) => {
    for (const [f, t] of Object.entries(files)) await h.write(f, t);
    await h.reload();
  };
  /** Which engine answered (x-engine header), or the status when none did. */
  const who = async (
    path = '/v1/chat/completions',
    body: object = chatBody(),
    headers: Record<string, string> = {},
  ) => {
    const r = await h.post(path, body, headers);
    return r.status === 200 ? String(r.headers['x-engine']) : String(r.status);
  };
  /** Probes with the field unset (`base`) and set (`mutated`); each outcome must be exactly the one intended. */
  const differs = async (
    field: string,
    base: () => Promise<void>,
    mutated: () => Promise<void>,
    probe: () => Promise<unknown>,
    expected: [before: unknown, after: unknown],
  ) => {
    await base();
    const p0 = await probe();
    await mutated();
    const p1 = await probe();
    assert.deepEqual([p0, p1], expected, `${field}: outcome without and with it`);
    await base();
  };
  const rt = (spec: string) => () => apply({ 'route.yaml': route(spec), 'servers.yaml': twoServers });

  test('ModelRoute.spec.modelName', () =>
    differs(
      'modelName',
      rt('  modelName: m\n  rules:\n  - targetModels: [{modelServerName: sa}]\n'),
      rt('  modelName: m2\n  rules:\n  - targetModels: [{modelServerName: sa}]\n'),
      () => who(),
      ['A', '404'],
    ));

  test('ModelRoute.spec.loraAdapters (and LoRA requests keep their model name)', async () => {
    await differs(
      'loraAdapters',
      rt('  modelName: m\n  rules:\n  - targetModels: [{modelServerName: sa}]\n'),
      rt('  modelName: m\n  loraAdapters: [l1]\n  rules:\n  - targetModels: [{modelServerName: sa}]\n'),
      () => who('/v1/chat/completions', chatBody('l1')),
      ['404', 'A'],
    );
    await rt('  modelName: m\n  loraAdapters: [l1]\n  rules:\n  - targetModels: [{modelServerName: sa}]\n')();
    await apply({ 'servers.yaml': `${server('sa', 'a', '  model: real/base\n')}---\n${server('sb', 'b')}` });
    await who('/v1/chat/completions', chatBody('l1'));
    assert.equal(A.received.at(-1)!.body.model, 'l1');
  });

  test('ModelRoute.spec.parentRefs (routes bound to a Gateway do not match plain requests)', () =>
    differs(
      'parentRefs',
      rt('  modelName: m\n  rules:\n  - targetModels: [{modelServerName: sa}]\n'),
      rt('  modelName: m\n  parentRefs: [{name: gw}]\n  rules:\n  - targetModels: [{modelServerName: sa}]\n'),
      () => who(),
      ['A', '404'],
    ));

  test('rules order and rules[].modelMatch.headers (exact, prefix, regex)', async () => {
    for (const m of ['{exact: gold}', '{prefix: go}', '{regex: "^g.l"}']) {
      await differs(
        `headers ${m}`,
        rt('  modelName: m\n  rules:\n  - targetModels: [{modelServerName: sb}]\n'),
        rt(
          `  modelName: m\n  rules:\n  - modelMatch: {headers: {tier: ${m}}}\n    targetModels: [{modelServerName: sa}]\n  - targetModels: [{modelServerName: sb}]\n`,
        ),
        () => who('/v1/chat/completions', chatBody(), { tier: 'gold' }),
        ['B', 'A'],
      );
    }
  });

  test('rules[].modelMatch.uri', () =>
    differs(
      'uri',
      rt('  modelName: m\n  rules:\n  - targetModels: [{modelServerName: sb}]\n'),
      rt(
        '  modelName: m\n  rules:\n  - modelMatch: {uri: {prefix: /v1/chat}}\n    targetModels: [{modelServerName: sa}]\n  - targetModels: [{modelServerName: sb}]\n',
      ),
      () => who(),
      ['B', 'A'],
    ));

  test('rules[].modelMatch.body.model', () =>
    differs(
      'body.model',
      rt(
        '  modelName: m\n  rules:\n  - modelMatch: {body: {model: m}}\n    targetModels: [{modelServerName: sa}]\n  - targetModels: [{modelServerName: sb}]\n',
      ),
      rt(
        '  modelName: m\n  rules:\n  - modelMatch: {body: {model: other}}\n    targetModels: [{modelServerName: sa}]\n  - targetModels: [{modelServerName: sb}]\n',
      ),
      () => who(),
      ['A', 'B'],
    ));

  test('targetModels[].modelServerName, weight and externalModelProviderName', async () => {
    await differs(
      'modelServerName',
      rt('  modelName: m\n  rules:\n  - targetModels: [{modelServerName: sa}]\n'),
      rt('  modelName: m\n  rules:\n  - targetModels: [{modelServerName: sb}]\n'),
      () => who(),
      ['A', 'B'],
    );
    await differs(
      'weight',
      rt(
        '  modelName: m\n  rules:\n  - targetModels: [{modelServerName: sa, weight: 100}, {modelServerName: sb, weight: 0}]\n',
      ),
      rt(
        '  modelName: m\n  rules:\n  - targetModels: [{modelServerName: sa, weight: 0}, {modelServerName: sb, weight: 100}]\n',
      ),
      () => who(),
      ['A', 'B'],
    );
    await differs(
      'externalModelProviderName',
      rt('  modelName: m\n  rules:\n  - targetModels: [{modelServerName: sa}]\n'),
      rt('  modelName: m\n  rules:\n  - targetModels: [{externalModelProviderName: p}]\n'),
      () => who(),
      ['A', '404'], // routed to the provider, which does not exist: provider_not_found,
    );
  });

  test('ModelServer.spec.model rewrites the body model', async () => {
    const probe = async () => {
      await who();
      return A.received.at(-1)!.body.model;
    };
    await differs(
      'model',
      () => apply({ 'servers.yaml': twoServers }),
      () => apply({ 'servers.yaml': `${server('sa', 'a', '  model: real/x\n')}---\n${server('sb', 'b')}` }),
      probe,
      ['m', 'real/x'],
    );
  });

  test('ModelServer.spec.workloadSelector.matchLabels', () =>
    differs(
      'matchLabels',
      () => apply({ 'servers.yaml': twoServers }),
      () => apply({ 'servers.yaml': `${server('sa', 'b')}---\n${server('sb', 'a')}` }),
      () => who(),
      ['A', 'B'],
    ));

  test('ModelServer.spec.workloadPort.port (used when the endpoint names no port) and protocol', async () => {
    const noPort = (eng: string) =>
      `apiVersion: router.kthena.io/v1alpha1\nkind: EngineEndpoint\nmetadata: {name: np, labels: {app: np}}\nspec: {address: 127.0.0.1}\n# ${eng}\n`;
    const srv = (port: number, extra = '') =>
      serverYaml(
        'snp',
        `  inferenceEngine: vLLM\n  workloadSelector: {matchLabels: {app: np}}\n  workloadPort: {port: ${port}${extra}}\n`,
      );
    const r = rt('  modelName: m\n  rules:\n  - targetModels: [{modelServerName: snp}]\n');
    await r();
    await differs(
      'workloadPort.port',
      () => apply({ 'np.yaml': `${noPort('A')}---\n${srv(A.port)}` }),
      () => apply({ 'np.yaml': `${noPort('B')}---\n${srv(B.port)}` }),
      () => who(),
      ['A', 'B'],
    );
    await differs(
      'workloadPort.protocol',
      () => apply({ 'np.yaml': `${noPort('A')}---\n${srv(A.port)}` }),
      () => apply({ 'np.yaml': `${noPort('A')}---\n${srv(A.port, ', protocol: https')}` }),
      () => who(),
      ['A', '503'], // the router speaks TLS to a plain-HTTP engine: every attempt fails,
    );
    await apply({ 'np.yaml': '' });
  });

  test('ModelServer.spec.inferenceEngine selects the metric names that are scraped', async () => {
    A.metricsText = 'vllm:num_requests_waiting 2\nsglang:num_queue_reqs 7\n';
    const probe = async () => {
      await h.router.scraper.scrapeOnce();
      return h.router.store.endpointState('default/a')!.metrics.waiting;
    };
    await differs(
      'inferenceEngine',
      () => apply({ 'servers.yaml': twoServers }),
      () => apply({ 'servers.yaml': `${server('sa', 'a').replace('vLLM', 'SGLang')}---\n${server('sb', 'b')}` }),
      probe,
      [2, 7],
    );
    A.metricsText = '';
    await h.router.scraper.scrapeOnce();
  });

  test('ModelServer.spec.trafficPolicy.timeout, retry.attempts and retry.retryInterval', async () => {
    await rt('  modelName: m\n  rules:\n  - targetModels: [{modelServerName: sa}]\n')();
    A.fallback = { kind: 'hang' };
    const timed = async () => {
      const ac = new AbortController();
      const t = setTimeout(() => ac.abort(), 1500);
      try {
        const res = await request(`${h.router.url}/v1/chat/completions`, {
          method: 'POST',
          body: JSON.stringify(chatBody()),
          signal: ac.signal,
        });
        await res.body.dump();
        return res.statusCode;
      } catch {
        return 'client gave up';
      } finally {
        clearTimeout(t);
      }
    };
    await differs(
      'timeout',
      () => apply({ 'servers.yaml': twoServers }),
      () =>
        apply({
          'servers.yaml': `${server('sa', 'a', '  trafficPolicy: {timeout: 100ms}\n')}---\n${server('sb', 'b')}`,
        }),
      timed,
      ['client gave up', 503],
    );
    A.fallback = { kind: 'status', status: 500 };
    const tries = async () => {
      const n = A.received.length;
      await who();
      return A.received.length - n;
    };
    await differs(
      'retry.attempts',
      () =>
        apply({
          'servers.yaml': `${server('sa', 'a', '  trafficPolicy: {retry: {attempts: 1, retryInterval: 1ms}}\n')}---\n${server('sb', 'b')}`,
        }),
      () =>
        apply({
          'servers.yaml': `${server('sa', 'a', '  trafficPolicy: {retry: {attempts: 3, retryInterval: 1ms}}\n')}---\n${server('sb', 'b')}`,
        }),
      tries,
      [2, 4],
    );
    // retryInterval: the engine sees the second try at least that long after the first. A lower bound the router
    // must guarantee (load can only make the gap longer), so it cannot pass by luck or fail on a slow machine.
    await apply({
      'servers.yaml': `${server('sa', 'a', '  trafficPolicy: {retry: {attempts: 1, retryInterval: 400ms}}\n')}---\n${server('sb', 'b')}`,
    });
    const n = A.received.length;
    assert.equal(await who(), '503');
    const [first, second] = A.received.slice(n);
    assert.ok(first && second, 'two tries reached the engine');
    assert.ok(
      second.at - first.at >= 399,
      `retry after ${Math.round(second.at - first.at)} ms, before retryInterval 400ms`,
    );
    A.fallback = { kind: 'ok' };
  });
});
