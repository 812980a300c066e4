// Pod IPs on the loopback network. Linux routes all of 127.0.0.0/8 to `lo`, so every pod can have its own
// address (and listen on the same port as its neighbours) without any configuration. Node i gets the /24
// 127.<base + i/256>.<i%256>.0; its pods get .2–.254 of it, handed out round-robin so an address is not reused
// while connections to its previous owner may linger.

import { createServer } from 'node:net';

export function nodeSubnet(base: number, nodeIndex: number): string {
  const second = base + Math.floor(nodeIndex / 256);
  if (second > 254) throw new Error(`too many nodes for the pod network starting at 127.${base}.0.0`);
  return `127.${second}.${nodeIndex % 256}`;
}

/** A stable second octet for a cluster, derived from its API server port so concurrent local clusters differ. */
export function networkBaseForPort(port: number): number {
  return 32 + (port % 192);
}

/** Where a cluster holds its pod network: a listener nothing else uses, on the network's last address. */
const CLAIM_PORT = 64999;

/**
 * Claims a pod network for this process: the preferred base (stable across restarts on the same port) unless another
 * local cluster holds it, else the next free one. Two API ports equal modulo 192 would otherwise give two clusters
 * the same pod IPs, and one cluster's router would reach the other's engines. The claim is a listener on
 * 127.<base>.255.254, released by `release()` or by the process's exit.
 */
export async function claimNetworkBase(preferred: number): Promise<{ base: number; release(): Promise<void> }> {
  for (let k = 0; k < 192; k++) {
    const base = 32 + ((preferred - 32 + k) % 192);
    const server = createServer();
    const ok = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(CLAIM_PORT, `127.${base}.255.254`, () => resolve(true));
    });
    if (ok) {
      server.unref();
      return { base, release: () => new Promise<void>((r) => server.close(() => r())) };
    }
  }
  throw new Error('no free pod network on 127.32.0.0–127.223.255.255: too many local clusters');
}

export class PodIpAllocator {
  private readonly used = new Set<number>();
  private next = 2;

  constructor(readonly subnet: string) {}

  get cidr(): string {
    return `${this.subnet}.0/24`;
  }
  get gateway(): string {
    return `${this.subnet}.1`;
  }

  allocate(): string {
    for (let i = 0; i < 253; i++) {
      const host = this.next;
      this.next = this.next >= 254 ? 2 : this.next + 1;
      if (!this.used.has(host)) {
        this.used.add(host);
        return `${this.subnet}.${host}`;
      }
    }
    throw new Error(`no free pod IP in ${this.cidr}`);
  }

  release(ip: string): void {
    if (!ip.startsWith(`${this.subnet}.`)) return;
    this.used.delete(Number(ip.slice(this.subnet.length + 1)));
  }
}

/** GPU device indices of one node, handed to containers by their nvidia.com/gpu limit. */
export class GpuAllocator {
  private readonly free: number[];
  constructor(count: number) {
    this.free = Array.from({ length: count }, (_, i) => i);
  }
  allocate(n: number): number[] {
    const got = this.free.splice(0, Math.min(n, this.free.length));
    return got;
  }
  release(ids: number[]): void {
    this.free.push(...ids);
    this.free.sort((a, b) => a - b);
  }
}
