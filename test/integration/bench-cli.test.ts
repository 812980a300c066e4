// Bad input to `kthena bench scheduling`, `overhead` and `chaos` fails fast with a clear message (nothing starts).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

const cli = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'bench', 'scheduling', ...args], {
    encoding: 'utf8',
  });

test('kthena bench scheduling rejects unknown scenarios, strategies and bad counts', () => {
  const cases: [string[], RegExp][] = [
    [['nope'], /unknown scenario "nope"/],
    [['kthena-long', '--strategies', 'random,bogus'], /unknown strategy "bogus"/],
    [['kthena-long', '--runs', '0'], /--runs must be a positive integer/],
    [['kthena-long', '--groups', 'x'], /--groups must be a positive integer/],
  ];
  for (const [args, re] of cases) {
    const r = cli(...args);
    assert.notEqual(r.status, 0, args.join(' '));
    assert.match(r.stderr, re, args.join(' '));
  }
});

test('kthena bench overhead rejects bad concurrency lists and counts before starting anything', () => {
  const cases: [string[], RegExp][] = [
    [['--concurrency', '0'], /--concurrency takes comma-separated integers/],
    [['--concurrency', '1,abc'], /--concurrency takes comma-separated integers/],
    [['--streams', '-5'], /--streams must be a positive integer/],
    [['--chunks', '1.5'], /--chunks must be a positive integer/],
    [['--prompt-bytes', '0'], /--prompt-bytes must be a positive integer/],
    [['--compare-with', 'no-such-revision-xyz'], /--compare-with: "no-such-revision-xyz" is not a commit/],
  ];
  for (const [args, re] of cases) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'bench', 'overhead', ...args], {
      encoding: 'utf8',
    });
    assert.notEqual(r.status, 0, args.join(' '));
    assert.match(r.stderr, re, args.join(' '));
  }
});

test('kthena bench chaos rejects unknown faults and bad numbers before starting anything', () => {
  const cases: [string[], RegExp][] = [
    [['--faults', 'engine-sigkill,meteor'], /unknown fault "meteor" \(known: engine-sigkill/],
    [['--seconds', '0'], /--seconds must be between 1 and 86400/],
    [['--concurrency', 'x'], /--concurrency must be an integer/],
    [['--speedup', '-1'], /--speedup must be a positive number/],
  ];
  for (const [args, re] of cases) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'bench', 'chaos', ...args], {
      encoding: 'utf8',
    });
    assert.notEqual(r.status, 0, args.join(' '));
    assert.match(r.stderr, re, args.join(' '));
  }
});
