// Flags the local kubelet adds to `kthena …` containers so that several pods share this machine's loopback the way
// pods in their own network namespaces would: servers listen on the pod's IP (not 0.0.0.0, where every pod
// would collide on the same port), and the router's loopback-only debug server takes an ephemeral port (inside a
// real pod 127.0.0.1:15000 is private to the pod; here it is shared by all).

const LISTENERS = new Set(['engine-sim', 'router', 'controller-manager']);

const hasFlag = (argv: string[], flag: string) => argv.some((a) => a === flag || a.startsWith(`${flag}=`));

/** `argv` is the kthena command line after `kthena` (subcommand first). Returns a new array. */
export function localKthenaArgs(argv: string[], podIP: string): string[] {
  const out = [...argv];
  if (!LISTENERS.has(out[0])) return out;
  if (!hasFlag(out, '--host')) out.push('--host', podIP);
  if (out[0] === 'router') {
    const i = out.findIndex((a) => a === '--debug-port' || a.startsWith('--debug-port='));
    const disabled = i >= 0 && (out[i] === '--debug-port=-1' || (out[i] === '--debug-port' && out[i + 1] === '-1'));
    if (!disabled) {
      if (i >= 0) out.splice(i, out[i] === '--debug-port' ? 2 : 1);
      out.push('--debug-port=0');
    }
  }
  return out;
}
