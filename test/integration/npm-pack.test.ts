// `npx kthena` from the published package runs at once: the tarball ships the compiled dist/ (no build on install,
// no TypeScript needed), leaves test scaffolding out, and the installed bin answers --version and validates.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { runCommand } from '../helpers/run.js';

test('npm pack ships dist/; the installed tarball runs kthena --version and kthena validate', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kthena-pack-'));
  try {
    // prepare (tsc) runs as part of npm pack, so dist/ is fresh.
    const pack = await runCommand('npm', ['pack', '--json', '--pack-destination', dir]);
    assert.equal(pack.status, 0, pack.stderr);
    const info = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as {
      filename: string;
      files: { path: string }[];
    }[];
    const files = info[0].files.map((f) => f.path);
    assert.ok(files.includes('dist/cli/main.js'));
    assert.ok(files.includes('deploy/crds/volcano/scheduling.volcano.sh_podgroups.yaml'));
    // The router's console page ships beside dist/ (served from <package>/console).
    for (const f of ['console/index.html', 'console/console.js', 'console/console.css'])
      assert.ok(files.includes(f), f);
    assert.ok(
      !files.some((f) => f.startsWith('src/') || f.includes('/testing/') || /\.test\.js$/.test(f)),
      'no sources or test scaffolding',
    );
    const app = join(dir, 'app');
    writeFileSync(join(dir, 'package.json'), '{}');
    const install = await runCommand('npm', [
      'install',
      '--prefix',
      app,
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      join(dir, info[0].filename),
    ]);
    assert.equal(install.status, 0, install.stderr);
    const bin = join(app, 'node_modules', '.bin', 'kthena');
    const version = await runCommand(bin, ['--version']);
    assert.equal(version.status, 0, version.stderr);
    assert.equal(version.stdout.trim(), JSON.parse(readFileSync('package.json', 'utf8')).version);
    const ok = await runCommand(bin, ['validate', '-f', resolve('examples/modelserving/single-node.yaml')]);
    assert.equal(ok.status, 0, ok.stderr + ok.stdout);
    const badFile = join(dir, 'bad.yaml');
    writeFileSync(
      badFile,
      'apiVersion: workload.serving.volcano.sh/v1alpha1\nkind: ModelServing\nmetadata: {name: x}\nspec: {replicas: -1}\n',
    );
    const bad = await runCommand(bin, ['validate', '-f', badFile]);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stdout + bad.stderr, /bad\.yaml/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
