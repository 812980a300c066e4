#!/usr/bin/env node
// The `kthena` command: one subcommand per file in this folder, each exporting `register(program)`.
import { Command } from 'commander';
import { registerCommands } from './commands.js';
import { VERSION } from './version.js';

const program = new Command();
program
  .name('kthena')
  .description('Kubernetes-native LLM serving: router, controllers, engine simulator, local control plane')
  .version(VERSION)
  .showHelpAfterError()
  .enablePositionalOptions();
registerCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`kthena: ${message}\n`);
  process.exit(1);
});
