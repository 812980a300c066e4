// Helpers shared by the integration and end-to-end tests: child commands run asynchronously (the API server under
// test often lives in the test's own process and must keep serving), and polling with a deadline that only bounds a
// broken run (never a timing assertion).
import { spawn } from 'node:child_process';

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runCommand(cmd: string, args: string[], input?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

export const kubectl = (args: string[], input?: string): Promise<Run> => runCommand('kubectl', args, input);

/** Polls until `fn` returns a value (not undefined/false); a throw counts as "not yet" and is named on timeout. */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 90_000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end)
      throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message ?? String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
