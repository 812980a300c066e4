// The image recipe, checked statically (no container engine here): two stages, the runtime stage runs as a numeric
// non-root user, the entrypoint is the compiled CLI, every COPY from the build context names something that exists,
// and every `--from` names an earlier stage. The image's data files are the ones the CLI reads at run time.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';

interface Instr {
  op: string;
  args: string;
}

function parse(text: string): Instr[] {
  const joined = text.replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const m = /^(\S+)\s+(.*)$/.exec(l);
      assert.ok(m, `unparsable line: ${l}`);
      return { op: m[1].toUpperCase(), args: m[2] };
    });
}

const instrs = parse(readFileSync('Dockerfile', 'utf8'));
const stages: { name?: string; instrs: Instr[] }[] = [];
for (const i of instrs) {
  if (i.op === 'FROM') stages.push({ name: /\bAS\s+(\S+)/i.exec(i.args)?.[1], instrs: [] });
  stages.at(-1)?.instrs.push(i);
}

test('multi-stage: a build stage and a runtime stage on Node 20', () => {
  assert.equal(stages.length, 2);
  for (const s of stages) assert.match(s.instrs[0].args, /^node:20\b/);
  assert.equal(stages[0].name, 'build');
  assert.ok(stages[0].instrs.some((i) => i.op === 'RUN' && i.args.includes('npm run build')));
});

test('the runtime stage runs as a numeric non-root user with the CLI as entrypoint', () => {
  const rt = stages[1].instrs;
  const user = rt.filter((i) => i.op === 'USER').at(-1);
  assert.ok(user, 'USER is set');
  const uid = Number(user.args.split(':')[0]);
  assert.ok(Number.isInteger(uid) && uid > 0, `numeric non-root uid (runAsNonRoot can verify it): ${user.args}`);
  const entry = JSON.parse(rt.find((i) => i.op === 'ENTRYPOINT')!.args);
  const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
  assert.deepEqual(entry, ['node', `/app/${pkg.bin.kthena}`]);
  assert.ok(!rt.some((i) => i.op === 'RUN' && /npm (ci|install)/.test(i.args)), 'no dependency install at runtime');
});

test('every COPY source exists in the build context or an earlier stage', () => {
  const ignored = readFileSync('.dockerignore', 'utf8').split('\n').filter(Boolean);
  for (const [n, s] of stages.entries()) {
    for (const i of s.instrs.filter((x) => x.op === 'COPY')) {
      const words = i.args.split(/\s+/);
      const from = words.find((w) => w.startsWith('--from='))?.slice(7);
      const paths = words.filter((w) => !w.startsWith('--'));
      const sources = paths.slice(0, -1);
      if (from) {
        const idx = stages.findIndex((x) => x.name === from);
        assert.ok(idx >= 0 && idx < n, `--from=${from} names an earlier stage`);
        continue;
      }
      for (const src of sources) {
        assert.ok(existsSync(src), `COPY ${src}: not in the build context`);
        assert.ok(!ignored.includes(src.replace(/\/$/, '')), `COPY ${src}: excluded by .dockerignore`);
      }
    }
  }
  // The data files the CLI reads at run time are in the image.
  const copied = stages[1].instrs.filter((i) => i.op === 'COPY').map((i) => i.args);
  for (const need of ['deploy/crds', 'templates', '/src/dist', '/src/node_modules'])
    assert.ok(
      copied.some((c) => c.includes(need)),
      need,
    );
});
