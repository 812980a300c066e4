import { readFileSync } from 'node:fs';

// Read from package.json so `kthena --version` never drifts from the published version.
const pkgUrl = new URL('../../package.json', import.meta.url);
export const VERSION: string = (JSON.parse(readFileSync(pkgUrl, 'utf8')) as { version: string }).version;
