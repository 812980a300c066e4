// How a pod runs our own CLI (`kthena …`): the same Node binary with the built entry (dist/cli/main.js) or, in a
// source checkout run through tsx, src/cli/main.ts under the tsx loader. KTHENA_CLI_ENTRY overrides both.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface CliInvocation {
  file: string;
  /** Arguments before the subcommand (Node flags and the entry script). */
  prefix: string[];
}

function packageRoot(from: string): string | undefined {
  let dir = from;
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'kthena') return dir;
      } catch {
        // not ours; keep walking up
      }
    }
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

function tsxLoader(): string | undefined {
  try {
    return import.meta.resolve('tsx');
  } catch {
    return undefined;
  }
}

let cached: CliInvocation | undefined;

export function kthenaCli(env: NodeJS.ProcessEnv = process.env): CliInvocation {
  const override = env.KTHENA_CLI_ENTRY;
  if (override) {
    if (override.endsWith('.ts')) {
      const loader = tsxLoader();
      if (!loader) throw new Error('KTHENA_CLI_ENTRY is a .ts file but tsx cannot be resolved');
      return { file: process.execPath, prefix: ['--import', loader, override] };
    }
    return { file: process.execPath, prefix: [override] };
  }
  if (cached) return cached;
  const here = fileURLToPath(import.meta.url);
  const root = packageRoot(dirname(here));
  if (!root) throw new Error(`cannot find the kthena package root above ${here}`);
  const dist = join(root, 'dist', 'cli', 'main.js');
  const src = join(root, 'src', 'cli', 'main.ts');
  const runningFromSource = here.endsWith('.ts');
  const loader = tsxLoader();
  if ((runningFromSource || !existsSync(dist)) && existsSync(src) && loader) {
    cached = { file: process.execPath, prefix: ['--import', loader, src] };
  } else if (existsSync(dist)) {
    cached = { file: process.execPath, prefix: [dist] };
  } else {
    throw new Error(`neither ${dist} nor ${src} (with tsx) exists: build the project or set KTHENA_CLI_ENTRY`);
  }
  return cached;
}
