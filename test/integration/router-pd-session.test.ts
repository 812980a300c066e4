// Session affinity through prefill/decode routing: a conversation keeps its decode pod (and with it its PD group)
// while that pod serves, and moves — then stays — when the pod is gone. Random scoring underneath, so without the pin
// requests would spread over both groups (equal scores are broken at random).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { longPrompt, type PdPod, pdRoute, pdServer, podEndpoints, startPod, startRig } from './router-pd-helpers.js';

const CONFIG = `scheduler:
  pluginConfig:
  - name: session-affinity
    args: {header: x-session-id}
  plugins:
    Score:
      enabled:
      - {name: session-affinity, weight: 1}
`;

const pods: PdPod[] = [];
after(async () => {
  await Promise.all(pods.flatMap((p) => (p.engine ? [p.engine.close()] : [])));
});

test('a session keeps its PD pair, yields when the decode pod is gone, and sticks to the new one', async () => {
  for (const [name, group, role] of [
    ['p0', 'g0', 'prefill'],
    ['d0', 'g0', 'decode'],
    ['p1', 'g1', 'prefill'],
    ['d1', 'g1', 'decode'],
  ] as const)
    pods.push(await startPod({ name, group, role }, 'vllm'));
  const rig = await startRig(
    {
      'server.yaml': pdServer('sess-pd', { connector: 'nixl' }),
      'route.yaml': pdRoute('sess-chat', 'sess-pd'),
      'engines.yaml': podEndpoints('sess-pd', pods),
    },
    { routerConfigText: CONFIG },
  );
  try {
    let logged = 0;
    const send = async (n: number, session?: string) => {
      for (let i = 0; i < n; i++) {
        await rig.client.chat.completions.create(
          { model: 'sess-chat', messages: [{ role: 'user', content: longPrompt(`s${i}`, 40) }], max_tokens: 2 },
          session ? { headers: { 'x-session-id': session } } : undefined,
        );
      }
      const lines = (await rig.log(logged + n)).slice(logged, logged + n);
      logged += n;
      return lines.map((l) => `${l.prefill_pod}|${l.decode_pod}`);
    };

    // Without a session every score is 0 and random tie-breaking spreads requests over both groups (all 12 on one: p = 2^-11).
    const free = await send(12);
    assert.equal(new Set(free.map((p) => p.split('|')[1])).size, 2, `spread without a session: ${free}`);

    const first = await send(8, 'conv-a');
    assert.equal(new Set(first).size, 1, `one pair for the whole conversation: ${first}`);
    const [, pinnedDecode] = first[0].split('|');
    const pinnedGroup = pinnedDecode.endsWith('0') ? 'g0' : 'g1';

    // The pinned group's pods leave the store: the session yields to the other group and is pinned there.
    await rig.h.write(
      'engines.yaml',
      podEndpoints(
        'sess-pd',
        pods.filter((p) => p.spec.group !== pinnedGroup),
      ),
    );
    await rig.h.reload();
    const moved = await send(6, 'conv-a');
    assert.equal(new Set(moved).size, 1, `the conversation moved once and stayed: ${moved}`);
    assert.notEqual(moved[0].split('|')[1], pinnedDecode);

    // The old group comes back: the conversation stays where its KV now is.
    await rig.h.write('engines.yaml', podEndpoints('sess-pd', pods));
    await rig.h.reload();
    const back = await send(6, 'conv-a');
    assert.deepEqual(new Set(back), new Set([moved[0]]), `no flip back to the old pair: ${back}`);
  } finally {
    await rig.close();
  }
});
