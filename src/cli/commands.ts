// The list of subcommands. Each lives in its own file and adds itself to the program.
import type { Command } from 'commander';
import { register as registerRouter } from './router.js';

type Register = (program: Command) => void;
const registrations: Register[] = [registerRouter];

export function registerCommands(program: Command): void {
  for (const register of registrations) register(program);
}
