// The list of subcommands. Each lives in its own file and adds itself to the program.
import type { Command } from 'commander';
import { register as registerCluster } from './cluster.js';

type Register = (program: Command) => void;
const registrations: Register[] = [registerCluster];

export function registerCommands(program: Command): void {
  for (const register of registrations) register(program);
}
