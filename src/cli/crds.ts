// `kthena crds`: prints the CustomResourceDefinitions of every Kthena kind, or writes one file per CRD.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { renderCrdFiles, renderCrdsYaml } from '../api/index.js';

export function register(program: Command): void {
  program
    .command('crds')
    .description('print the CustomResourceDefinitions (apiextensions.k8s.io/v1) of all Kthena kinds')
    .option('--out-dir <dir>', 'write one file per CRD into DIR instead of printing')
    .action((opts: { outDir?: string }) => {
      if (!opts.outDir) {
        process.stdout.write(renderCrdsYaml());
        return;
      }
      mkdirSync(opts.outDir, { recursive: true });
      for (const [name, text] of renderCrdFiles()) {
        writeFileSync(join(opts.outDir, name), text);
        process.stdout.write(`wrote ${join(opts.outDir, name)}\n`);
      }
    });
}
