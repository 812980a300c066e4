// Regenerates deploy/crds/*.yaml and docs/api.md from src/api. Tests fail when the committed files differ.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderApiDoc, renderCrdFiles } from '../src/api/index.js';

const root = join(import.meta.dirname, '..');
mkdirSync(join(root, 'deploy', 'crds'), { recursive: true });
for (const [name, text] of renderCrdFiles()) writeFileSync(join(root, 'deploy', 'crds', name), text);
mkdirSync(join(root, 'docs'), { recursive: true });
writeFileSync(join(root, 'docs', 'api.md'), renderApiDoc());
console.log('wrote deploy/crds/*.yaml and docs/api.md');
