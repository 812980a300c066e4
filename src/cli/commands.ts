// The list of subcommands. Each lives in its own file and adds itself to the program.
// One import line and one push line per command: this file merges with git's union driver (.gitattributes),
// so branches that add commands in parallel never conflict here.
import type { Command } from 'commander';
import { register as registerBench } from './bench.js';
import { register as registerCluster } from './cluster.js';
import { register as registerControllerManager } from './controller-manager.js';
import { register as registerCrds } from './crds.js';
import { register as registerCreate } from './create.js';
import { register as registerDescribe } from './describe.js';
import { register as registerDownload } from './download.js';
import { register as registerEngineSim } from './engine-sim.js';
import { register as registerGet } from './get.js';
import { register as registerRollout } from './rollout.js';
import { register as registerRouter } from './router.js';
import { register as registerRuntime } from './runtime.js';
import { register as registerStart } from './start.js';
import { register as registerUp } from './up/index.js';
import { register as registerValidate } from './validate.js';

type Register = (program: Command) => void;
const registrations: Register[] = [];
registrations.push(registerValidate);
registrations.push(registerCrds);
registrations.push(registerEngineSim);
registrations.push(registerCluster);
registrations.push(registerRouter);
registrations.push(registerControllerManager);
registrations.push(registerStart);
registrations.push(registerBench);
registrations.push(registerRollout);
registrations.push(registerGet);
registrations.push(registerDescribe);
registrations.push(registerCreate);
registrations.push(registerDownload);
registrations.push(registerUp);
registrations.push(registerRuntime);

export function registerCommands(program: Command): void {
  for (const register of registrations) register(program);
}
