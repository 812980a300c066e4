// The list of subcommands. Each lives in its own file and adds itself to the program.
import type { Command } from 'commander';
import { register as registerCrds } from './crds.js';
import { register as registerValidate } from './validate.js';

type Register = (program: Command) => void;
const registrations: Register[] = [registerValidate, registerCrds];

export function registerCommands(program: Command): void {
  for (const register of registrations) register(program);
}
