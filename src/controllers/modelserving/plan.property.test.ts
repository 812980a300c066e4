// Whatever happens (failures, deletions, spec changes, lost watch events as after a controller restart),
// once the chaos stops the planner converges to exactly the desired pods, services and status.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { podName, serviceName } from './naming.js';
import { MiniCluster, modelServing, role, setImage } from './testkit.js';
import type { RecoveryPolicy } from './types.js';

type Op =
  | { op: 'step' }
  | { op: 'ready'; pick: number }
  | { op: 'delete'; pick: number }
  | { op: 'crash'; pick: number }
  | { op: 'restart' }
  | { op: 'replicas'; n: number }
  | { op: 'image'; v: number }
  | { op: 'roleReplicas'; n: number }
  | { op: 'tick' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.constant({ op: 'step' as const }) },
  { weight: 3, arbitrary: fc.nat().map((pick) => ({ op: 'ready' as const, pick })) },
  { weight: 1, arbitrary: fc.nat().map((pick) => ({ op: 'delete' as const, pick })) },
  { weight: 1, arbitrary: fc.nat().map((pick) => ({ op: 'crash' as const, pick })) },
  { weight: 1, arbitrary: fc.constant({ op: 'restart' as const }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 4 }).map((n) => ({ op: 'replicas' as const, n })) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }).map((v) => ({ op: 'image' as const, v })) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 3 }).map((n) => ({ op: 'roleReplicas' as const, n })) },
  { weight: 1, arbitrary: fc.constant({ op: 'tick' as const }) },
);

test('converges to the desired state after arbitrary chaos', () => {
  fc.assert(
    fc.property(
      fc.array(opArb, { maxLength: 40 }),
      fc.constantFrom<RecoveryPolicy>('RoleRecreate', 'ServingGroupRecreate', 'None'),
      fc.constantFrom('ServingGroupRollingUpdate' as const, 'RoleRollingUpdate' as const),
      fc.boolean(),
      (ops, recoveryPolicy, type, graceful) => {
        if (recoveryPolicy === 'ServingGroupRecreate' && type === 'RoleRollingUpdate') return; // rejected by the webhook
        const c = new MiniCluster({ podGroupCrd: true, gracefulDelete: graceful });
        const ms = modelServing('m', 2, [role('prefill', 1, 2), role('decode', 2, 0)], {
          recoveryPolicy,
          rolloutStrategy: { type },
        });
        ms.metadata.annotations = { 'kthena.io/restart-backoff': '0' };
        for (const o of ops) {
          const names = c.podNames();
          switch (o.op) {
            case 'step':
              c.step(ms);
              break;
            case 'ready':
              if (names.length) c.setReady(names[o.pick % names.length]);
              break;
            case 'delete':
              if (names.length) c.externalDelete(names[o.pick % names.length]);
              break;
            case 'crash':
              if (names.length) c.crash(names[o.pick % names.length]);
              break;
            case 'restart':
              c.broken.clear(); // watch events seen by a dead controller are lost
              break;
            case 'replicas':
              ms.spec.replicas = o.n;
              break;
            case 'image':
              setImage(ms, 'prefill', `engine:v${o.v}`);
              break;
            case 'roleReplicas':
              ms.spec.template.roles[1].replicas = o.n;
              break;
            case 'tick':
              c.now += 5000;
              c.finishDeletions();
              break;
          }
        }
        c.converge(ms, { max: 60 });
        // Scale-down keeps the ready ones, so ordinals may have holes: compare shapes, not names.
        const replicas = ms.spec.replicas ?? 1;
        const groups = c.groupsOf();
        assert.equal(groups.length, replicas);
        const want: string[] = [];
        const svcs: string[] = [];
        for (const group of groups) {
          const g = Number(group.slice(2));
          for (const r of ms.spec.template.roles) {
            const ids = [
              ...new Set(
                c
                  .podNames()
                  .filter((n) => n.startsWith(`${group}-${r.name}-`))
                  .map((n) => Number(n.split('-')[3])),
              ),
            ];
            assert.equal(ids.length, r.replicas ?? 1, `${group} ${r.name}`);
            for (const i of ids) {
              for (let k = 0; k <= (r.workerReplicas ?? 0); k++) want.push(podName('m', g, r.name, i, k));
              if (r.workerTemplate) svcs.push(serviceName('m', g, r.name, i));
            }
          }
        }
        assert.deepEqual(c.podNames(), want.sort());
        const image = ms.spec.template.roles[0].entryTemplate.spec!.containers[0].image;
        for (const n of want.filter((x) => x.includes('prefill')))
          assert.equal(c.pods.get(n)!.spec!.containers[0].image, image, n);
        assert.deepEqual([...c.services.keys()].sort(), svcs.sort());
        assert.deepEqual([...c.podGroups.keys()].sort(), groups);
        assert.equal(ms.status?.replicas, replicas);
        assert.equal(ms.status?.availableReplicas, replicas);
        assert.equal(ms.status?.updatedReplicas, replicas);
        // and then it stays quiet
        assert.deepEqual(c.step(ms).actions, []);
      },
    ),
    {
      numRuns: Number(process.env.MS_PROPERTY_RUNS ?? 100),
      seed: process.env.MS_PROPERTY_SEED ? Number(process.env.MS_PROPERTY_SEED) : 42,
    },
  );
});
