// `kthena bench chaos` for ~25 s as CI runs it: the platform on the local control plane (separate processes) under
// streaming load, one round of every default fault kind, and every invariant holding — with mid-stream failover on,
// no request lost at all, in-flight gauges back to 0, no orphan process, ModelServings at their spec.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ChaosResult } from '../../bench/chaos/chaos.js';

test('bench chaos --seconds 25: every fault kind injected, every invariant held', { timeout: 900_000 }, async () => {
  const out = await mkdtemp(join(tmpdir(), 'kthena-chaos-e2e-'));
  try {
    const child = spawn(
      process.execPath,
      [
        ...['--import', 'tsx', 'src/cli/main.ts', 'bench', 'chaos'],
        ...['--seconds', '25', '--seed', '1', '--concurrency', '4', '--json', '--out-dir', out],
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    const last = stdout.trim().split('\n').pop() ?? '';
    const r = JSON.parse(last) as ChaosResult & { file: string };
    const broken = r.invariants.filter((i) => !i.held);
    assert.deepEqual(broken, [], JSON.stringify({ violations: r.violations, faults: r.faults }));
    assert.equal(code, 0);
    assert.equal(r.held, true);
    assert.deepEqual([...new Set(r.faults.map((f) => f.kind))].sort(), [
      'aborting-clients',
      'controller-manager-sigkill',
      'engine-sigkill',
      'engine-sigstop',
      'route-weight',
      'scale',
      'slow-clients',
    ]);
    assert.ok(
      r.faults.every((f) => f.ok),
      JSON.stringify(r.faults),
    );
    assert.equal(r.requests['lost-before-first-byte'], 0);
    assert.equal(r.requests['cut-mid-stream'], 0);
    assert.ok(r.requests.ok > 0);
    assert.ok(r.requests['client-abort'] > 0, 'the aborting clients ran');
    assert.deepEqual(await readdir(out), [r.file.split('/').pop()], 'the JSON result was written');
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});
