// Polling for tests: wait until a condition holds. The deadline is not a timing assertion, it only turns a broken
// run into a failure that names what never happened instead of a test that hangs until the runner's own limit.

export async function waitFor<T>(
  f: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  ms = 60_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
