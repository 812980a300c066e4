// The console in a real browser: simulated engines behind a router, traffic through the official client, then
// Debian's chromium (driven by playwright-core) opens /console/ and must show the endpoints and the decision for the
// request just sent. A screenshot is left in test-results/ (ignored by git) for people to look at.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type BrowserContext, chromium } from 'playwright-core';
import { type Booted, bootExample } from '../integration/router-helpers.js';

const CHROMIUM = process.env.KTHENA_CHROMIUM ?? '/usr/bin/chromium';
const RESULTS = join(import.meta.dirname, '..', '..', 'test-results');
const skip = !existsSync(CHROMIUM) && `no browser at ${CHROMIUM} (apt-get install chromium)`;

let b: Booted;
let browser: BrowserContext;
let profile: string;

before(async () => {
  if (skip) return;
  b = await bootExample('canary-70-30.yaml', { replicas: 2 });
  profile = await mkdtemp(join(tmpdir(), 'kthena-chromium-'));
  // A fresh profile per run: nothing cached or signed in from an earlier run.
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 1100 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

after(async () => {
  await browser?.close();
  await b?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
});

test('the console shows the endpoints and the decision for a request just sent', { skip }, async () => {
  for (let i = 0; i < 5; i++) {
    const r = await b.client.chat.completions.create({
      model: 'deepseek-canary',
      messages: [{ role: 'user', content: `what is ${i} + ${i}?` }],
      max_tokens: 8,
    });
    assert.ok(r.choices[0]?.message.content);
  }
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(`http://127.0.0.1:${b.h.router.debugPort}/console/`);

  // Every engine endpoint of both ModelServers, by key.
  const endpoints = [...b.h.router.store.endpointStates()].map((s) => s.key).sort();
  assert.equal(endpoints.length, 4);
  for (const key of endpoints)
    await page
      .locator(`[data-endpoint="${key}"]`)
      .waitFor({ timeout: 15_000 })
      .catch(async (e: Error) => {
        throw new Error(`${e.message}\npage errors: ${errors.join('; ')}\n${await page.locator('body').textContent()}`);
      });
  const servers = await page
    .locator('[data-server]')
    .evaluateAll((els) => els.map((e) => e.getAttribute('data-server')));
  assert.deepEqual(servers.sort(), ['default/deepseek-r1-1-5b-v1', 'default/deepseek-r1-1-5b-v2']);

  // The decision for the canary model: the chosen endpoint, ranked first, with its filter verdict and scores.
  const decision = page.locator('[data-decision="deepseek-canary"]').first();
  await decision.waitFor({ timeout: 15_000 });
  const text = (await decision.textContent()) ?? '';
  const chosen = await decision.getAttribute('data-chosen');
  assert.ok(chosen && endpoints.includes(chosen), text);
  assert.equal(await decision.locator(`[data-verdict="${chosen}"]`).textContent(), 'passed');

  // The route with its configured weights and the requests each target served.
  const route = (await page.locator('[data-route="default/deepseek-canary"]').textContent()) ?? '';
  assert.match(route, /70\.0%/);
  assert.match(route, /30\.0%/);

  await mkdir(RESULTS, { recursive: true });
  await page.screenshot({ path: join(RESULTS, 'console.png'), fullPage: true });
  assert.deepEqual(errors, [], 'no script errors on the page');
  await page.close();
});
