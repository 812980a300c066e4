import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DownloadError, download, MARKER, parseSource } from './index.js';
import { parseListPage } from './sources/s3.js';
import { startFakeHub } from './testing/fake-hub.js';
import { startFakeS3 } from './testing/fake-s3.js';

const tmp = mkdtempSync(join(tmpdir(), 'kthena-download-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const outDir = () => join(tmp, 'cache', `model-${++n}`);
const MODEL = {
  'config.json': '{"architectures":["Qwen2"]}',
  'tokenizer.json': '{}',
  'weights/part-1.safetensors': 'x'.repeat(70_000),
};
const tree = (dir: string): Record<string, string> => {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else if (e.name !== MARKER) out[r] = readFileSync(join(dir, r), 'utf8');
    }
  };
  walk('');
  return out;
};
/** Nothing but the output dir (if any) is left beside it: no temp dir, no lock. */
const leftovers = (out: string) =>
  readdirSync(join(out, '..')).filter((f) => f.includes(out.split('/').pop()!) && f !== out.split('/').pop());
const rejectsWith = (p: Promise<unknown>, code: string, re: RegExp) =>
  assert.rejects(p, (e: unknown) => e instanceof DownloadError && e.code === code && re.test(e.message));

test('hf://: every file (nested included) through the redirect, with the token and revision; a second run skips', async () => {
  const hub = await startFakeHub({ hf: { 'Qwen/Qwen2.5-0.5B': { files: MODEL, token: 'hf_secret', revision: 'v2' } } });
  try {
    const out = outDir();
    const env = { HF_ENDPOINT: hub.url, HF_TOKEN: 'hf_secret', HF_REVISION: 'v2' };
    const r = await download({ source: 'hf://Qwen/Qwen2.5-0.5B', outputDir: out, env });
    const bytes = Object.values(MODEL).reduce((sum, text) => sum + text.length, 0);
    assert.deepEqual(r, { status: 'downloaded', files: 3, bytes });
    assert.deepEqual(tree(out), MODEL);
    assert.equal(JSON.parse(readFileSync(join(out, MARKER), 'utf8')).source, 'hf://Qwen/Qwen2.5-0.5B');
    assert.deepEqual(leftovers(out), []);
    const again = await download({ source: 'hf://Qwen/Qwen2.5-0.5B', outputDir: out, env });
    assert.equal(again.status, 'already-complete');
    assert.equal(hub.fetches.get('Qwen/Qwen2.5-0.5B/config.json'), 1, 'nothing fetched twice');
    // HUGGING_FACE_HUB_TOKEN is the older name of the same token.
    const old = await download({
      source: 'hf://Qwen/Qwen2.5-0.5B',
      outputDir: outDir(),
      env: { HF_ENDPOINT: hub.url, HUGGING_FACE_HUB_TOKEN: 'hf_secret', HF_REVISION: 'v2' },
    });
    assert.equal(old.status, 'downloaded');
  } finally {
    await hub.close();
  }
});

test('two downloads into one cache at once: one fetches, the other waits for the lock and skips', async () => {
  const hub = await startFakeHub({ hf: { 'org/m': { files: MODEL } } });
  try {
    const out = outDir();
    const env = { HF_ENDPOINT: hub.url };
    const [a, b] = await Promise.all([
      download({ source: 'hf://org/m', outputDir: out, env }),
      download({ source: 'hf://org/m', outputDir: out, env }),
    ]);
    assert.deepEqual([a.status, b.status].sort(), ['already-complete', 'downloaded']);
    for (const f of Object.keys(MODEL)) assert.equal(hub.fetches.get(`org/m/${f}`), 1, f);
    assert.deepEqual(tree(out), MODEL);
    assert.deepEqual(leftovers(out), []);
  } finally {
    await hub.close();
  }
});

test('hf:// failures are clear errors and leave nothing behind', async () => {
  const hub = await startFakeHub({
    hf: {
      'org/private': { files: MODEL, token: 't' },
      'org/short': { files: MODEL, lieAboutSize: { 'tokenizer.json': 10 } },
      'org/hostile': { files: MODEL, extraListed: ['../../escape.txt'] },
    },
  });
  try {
    const env = { HF_ENDPOINT: hub.url };
    const cases: [string, string, RegExp][] = [
      [
        'hf://org/private',
        'Unauthorized',
        /hf:\/\/org\/private \(revision main\) at .*: HTTP 401 \(check the token or the access keys\)/,
      ],
      ['hf://org/missing', 'NotFound', /hf:\/\/org\/missing .*HTTP 404: .*Repository not found/],
      ['hf://org/short', 'Truncated', /hf:\/\/org\/short\/tokenizer\.json: got 2 bytes, the listing says 10/],
      ['hf://org/hostile', 'UnsafePath', /unsafe path "\.\.\/\.\.\/escape\.txt"/],
    ];
    for (const [source, code, re] of cases) {
      const out = outDir();
      await rejectsWith(download({ source, outputDir: out, env }), code, re);
      assert.equal(existsSync(out), false, source);
      assert.deepEqual(leftovers(out), [], source);
    }
    assert.equal(existsSync(join(tmp, 'escape.txt')), false);
    await rejectsWith(
      download({ source: 'hf://org/m', outputDir: outDir(), env: { HF_ENDPOINT: 'http://127.0.0.1:1' } }),
      'Unreachable',
      /cannot reach http:\/\/127\.0\.0\.1:1: /,
    );
  } finally {
    await hub.close();
  }
});

test('an output dir holding something else is refused, never overwritten', async () => {
  const hub = await startFakeHub({ hf: { 'org/m': { files: MODEL } } });
  try {
    const env = { HF_ENDPOINT: hub.url };
    const foreign = outDir();
    mkdirSync(foreign, { recursive: true });
    writeFileSync(join(foreign, 'mine.txt'), 'keep me');
    await rejectsWith(
      download({ source: 'hf://org/m', outputDir: foreign, env }),
      'BadOutputDir',
      /is not empty and holds no finished download/,
    );
    assert.equal(readFileSync(join(foreign, 'mine.txt'), 'utf8'), 'keep me');
    const other = outDir();
    await download({ source: 'hf://org/m', outputDir: other, env });
    await rejectsWith(
      download({ source: 'hf://org/n', outputDir: other, env }),
      'BadOutputDir',
      /holds a download of hf:\/\/org\/m, not hf:\/\/org\/n/,
    );
    const empty = outDir();
    mkdirSync(empty, { recursive: true });
    assert.equal((await download({ source: 'hf://org/m', outputDir: empty, env })).status, 'downloaded');
  } finally {
    await hub.close();
  }
});

test('ms://: files with MS_TOKEN and MS_REVISION; a wrong token is Unauthorized', async () => {
  const hub = await startFakeHub({ ms: { 'Qwen/Qwen3-8B': { files: MODEL, token: 'ms_t', revision: 'v1.0' } } });
  try {
    const out = outDir();
    const env = { MODELSCOPE_DOMAIN: hub.url, MS_TOKEN: 'ms_t', MS_REVISION: 'v1.0' };
    assert.equal((await download({ source: 'ms://Qwen/Qwen3-8B', outputDir: out, env })).status, 'downloaded');
    assert.deepEqual(tree(out), MODEL);
    await rejectsWith(
      download({ source: 'ms://Qwen/Qwen3-8B', outputDir: outDir(), env: { ...env, MS_TOKEN: 'wrong' } }),
      'Unauthorized',
      /ms:\/\/Qwen\/Qwen3-8B \(revision v1\.0\): HTTP 401/,
    );
  } finally {
    await hub.close();
  }
});

test('s3://: SigV4-signed listing (paged) and gets, checked by the fake; a wrong secret is refused', async () => {
  const objects = {
    'models/qwen/config.json': '{"a":1}',
    'models/qwen/sub dir/w&1.bin': 'weights',
    'models/qwen/tokenizer.json': '{}',
    'models/other/x': 'not ours',
  };
  const s3 = await startFakeS3({ bucket: 'llm', objects, accessKey: 'AKIATEST', secretKey: 'sekret', pageSize: 2 });
  try {
    const out = outDir();
    const env = { ENDPOINT: s3.url, ACCESS_KEY: 'AKIATEST', SECRET_KEY: 'sekret' };
    const r = await download({ source: 's3://llm/models/qwen', outputDir: out, env });
    assert.equal(r.files, 3);
    assert.deepEqual(tree(out), { 'config.json': '{"a":1}', 'sub dir/w&1.bin': 'weights', 'tokenizer.json': '{}' });
    assert.ok(s3.requests.every((q) => q.signed));
    assert.ok(s3.requests.filter((q) => q.path === '/llm').length >= 2, 'the listing was paged');
    await rejectsWith(
      download({ source: 's3://llm/models/qwen', outputDir: outDir(), env: { ...env, SECRET_KEY: 'wrong' } }),
      'Unauthorized',
      /s3:\/\/llm\/models\/qwen: listing at .*: HTTP 403 .*SignatureDoesNotMatch/,
    );
    await rejectsWith(
      download({
        source: 's3://llm/models/qwen',
        outputDir: outDir(),
        env: { ENDPOINT: s3.url, ACCESS_KEY: 'AKIATEST' },
      }),
      'MissingCredentials',
      /set both ACCESS_KEY and SECRET_KEY/,
    );
    // obs:// (Huawei OBS) speaks the same API.
    assert.equal((await download({ source: 'obs://llm/models/qwen', outputDir: outDir(), env })).files, 3);
    await rejectsWith(
      download({ source: 's3://llm/nothing-here', outputDir: outDir(), env }),
      'NotFound',
      /no objects under s3:\/\/llm\/nothing-here\//,
    );
  } finally {
    await s3.close();
  }
});

test('pvc://: copies the tree under the mounted claim; a missing path names where it looked', async () => {
  const root = join(tmp, 'mnt');
  const model = join(root, 'models-claim', 'qwen');
  mkdirSync(join(model, 'weights'), { recursive: true });
  for (const [p, text] of Object.entries(MODEL)) writeFileSync(join(model, p), text);
  const out = outDir();
  assert.equal((await download({ source: 'pvc://models-claim/qwen', outputDir: out, pvcRoot: root })).files, 3);
  assert.deepEqual(tree(out), MODEL);
  assert.equal(
    (await download({ source: 'pvc://models-claim/qwen', outputDir: out, pvcRoot: root })).status,
    'already-complete',
  );
});

test('pvc:// missing path', async () => {
  await rejectsWith(
    download({ source: 'pvc://models-claim/nope', outputDir: outDir(), pvcRoot: join(tmp, 'mnt') }),
    'NotFound',
    /pvc:\/\/models-claim\/nope: .*mnt\/models-claim\/nope does not exist \(is the claim mounted at .*mnt\/models-claim\?\)/,
  );
});

test('malformed sources are refused before any I/O, naming --source', () => {
  const cases: [string, RegExp][] = [
    ['Qwen/Qwen3-8B', /--source "Qwen\/Qwen3-8B": expected SCHEME:\/\/…/],
    ['ftp://x/y', /unsupported scheme "ftp:\/\/"; supported: hf:\/\/, ms:\/\/, s3:\/\/, obs:\/\/, pvc:\/\//],
    ['hf://only-one', /expected hf:\/\/NAMESPACE\/REPO/],
    ['hf://a/b/c', /expected hf:\/\/NAMESPACE\/REPO/],
    ['s3://B_ad/x', /"B_ad" is not a bucket name/],
    ['s3://bucket/a/../b', /"\." and "\.\." path segments are not allowed/],
    ['pvc://claim/../etc', /"\." and "\.\." path segments are not allowed/],
    ['pvc://', /expected pvc:\/\/CLAIM\/PATH/],
  ];
  for (const [uri, re] of cases) assert.throws(() => parseSource(uri), re, uri);
  assert.deepEqual(parseSource('pvc:///claim/a/b/'), { scheme: 'pvc', claim: 'claim', path: '/claim/a/b' });
  assert.deepEqual(parseSource('s3://bucket'), { scheme: 's3', bucket: 'bucket', prefix: '' });
});

test('S3 listing pages: keys unescaped, the token only while truncated, anything else refused', () => {
  const page = parseListPage(
    '<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>a&amp;b</NextContinuationToken><Contents><Key>x/&lt;1&gt;&#38;</Key><Size>3</Size></Contents></ListBucketResult>',
  );
  assert.deepEqual(page, { objects: [{ key: 'x/<1>&', size: 3 }], next: 'a&b' });
  assert.equal(
    parseListPage(
      '<ListBucketResult><IsTruncated>false</IsTruncated><NextContinuationToken>t</NextContinuationToken></ListBucketResult>',
    ).next,
    undefined,
  );
  assert.throws(() => parseListPage('<Error><Code>AccessDenied</Code></Error>'), /not a ListBucketResult/);
});
