// One ZMQ SUB socket per endpoint, feeding the KvBlockIndex. A socket per endpoint (rather than one socket
// connected to all) tells us which engine a batch came from without relying on topics, and gives per-engine
// disconnect events: when an engine's stream drops (crash, restart, network) its blocks are forgotten at once,
// so a restarted engine is never scored warm. ZMQ reconnects by itself; a restarted engine restarts its sequence
// at 0, which the index treats as a restart as well.
import type { KvBlockIndex } from './block-index.js';
import { applyKvMessage } from './wire.js';

type Zmq = typeof import('zeromq');

export interface SubscriberLog {
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export class KvEventSubscriber {
  private zmq: Zmq | undefined;
  private loading: Promise<Zmq> | undefined;
  private readonly socks = new Map<string, { url: string; sock: InstanceType<Zmq['Subscriber']> }>();
  private timer: NodeJS.Timeout | undefined;
  decodeErrors = 0;
  disconnects = 0;
  private closed = false;

  constructor(
    private readonly index: KvBlockIndex,
    private readonly log?: SubscriberLog,
    gapCheckMs = 500,
  ) {
    if (gapCheckMs > 0) {
      this.timer = setInterval(() => this.index.checkGaps(), gapCheckMs);
      this.timer.unref();
    }
  }

  private async load(): Promise<Zmq> {
    if (this.zmq) return this.zmq;
    this.loading ??= import('zeromq').catch(() => {
      throw new Error('precise KV mode needs the optional dependency "zeromq", which is not installed');
    });
    this.zmq = await this.loading;
    return this.zmq;
  }

  has(endpoint: string, url: string): boolean {
    return this.socks.get(endpoint)?.url === url;
  }

  get size(): number {
    return this.socks.size;
  }

  /** Subscribes to `url` for `endpoint` (replacing a previous URL). Idempotent. */
  async subscribe(endpoint: string, url: string): Promise<void> {
    if (this.has(endpoint, url)) return;
    this.unsubscribe(endpoint);
    const zmq = await this.load();
    // close() may have run while zeromq was loading: a socket opened now would never be closed and would keep
    // the process alive (reconnecting forever).
    if (this.closed || this.has(endpoint, url)) return;
    const sock = new zmq.Subscriber({ receiveHighWaterMark: 100_000, linger: 0, reconnectInterval: 200 });
    sock.subscribe();
    this.socks.set(endpoint, { url, sock });
    sock.events.on('disconnect', () => {
      this.disconnects++;
      this.index.reset(endpoint);
      this.log?.debug({ endpoint, url }, 'KV event stream disconnected; endpoint cache forgotten');
    });
    sock.connect(url);
    void this.pump(endpoint, sock);
  }

  unsubscribe(endpoint: string): void {
    const cur = this.socks.get(endpoint);
    if (!cur) return;
    this.socks.delete(endpoint);
    cur.sock.close();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    for (const key of [...this.socks.keys()]) this.unsubscribe(key);
  }

  private async pump(endpoint: string, sock: InstanceType<Zmq['Subscriber']>): Promise<void> {
    try {
      for await (const frames of sock) {
        if (this.socks.get(endpoint)?.sock !== sock) return;
        try {
          // [topic, seq, payload]; tolerate publishers without a topic frame.
          const seqFrame = frames.length >= 3 ? frames[1] : frames[0];
          const payload = frames.length >= 3 ? frames[2] : frames[1];
          applyKvMessage(this.index, endpoint, seqFrame, payload);
        } catch (err) {
          this.decodeErrors++;
          this.log?.warn({ endpoint, err: (err as Error).message }, 'undecodable KV event batch ignored');
        }
      }
    } catch (err) {
      if (this.socks.get(endpoint)?.sock === sock) {
        this.log?.warn({ endpoint, err: (err as Error).message }, 'KV event subscription failed');
      }
    }
  }
}
