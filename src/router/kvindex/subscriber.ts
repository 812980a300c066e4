// One ZMQ SUB socket per endpoint, feeding the KvBlockIndex. A socket per endpoint (rather than one socket
// connected to all) tells us which engine a batch came from without relying on topics, and gives per-engine
// disconnect events: when an engine's stream drops (crash, restart, network) its blocks are forgotten at once,
// so a restarted engine is never scored warm. ZMQ reconnects by itself; a restarted engine restarts its sequence
// at 0, which the index treats as a restart as well.
//
// Replay: on every (re)connection, and when an endpoint's replay endpoint becomes known, the subscriber asks the
// engine's ROUTER replay socket (vLLM's protocol: send ["", start_seq], receive ["", seq, payload]… then seq −1) for
// every batch it still buffers, so a router that starts (or reconnects) after the engines warmed up knows their caches
// at once. Live batches that arrive meanwhile wait and are applied after the replay, in order; the index drops the
// ones the replay already covered (seq below next). Without a replay endpoint only what is published after the
// subscription is known.
import type { KvBlockIndex } from './block-index.js';
import { applyKvMessage, readSeq } from './wire.js';

type Zmq = typeof import('zeromq');

interface Sub {
  url: string;
  sock: InstanceType<Zmq['Subscriber']>;
  replayUrl?: string;
  connected: boolean;
  /** Live messages held while a replay runs. */
  pending: Uint8Array[][] | null;
}

/** How long a replay may take before live batches are applied without it. */
const REPLAY_TIMEOUT_MS = 5_000;

export interface SubscriberLog {
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export class KvEventSubscriber {
  private zmq: Zmq | undefined;
  private loading: Promise<Zmq> | undefined;
  private readonly socks = new Map<string, Sub>();
  private timer: NodeJS.Timeout | undefined;
  decodeErrors = 0;
  disconnects = 0;
  replays = 0;
  replayedBatches = 0;
  replayFailures = 0;
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
    const replayUrl = this.replayUrls.get(endpoint);
    this.unsubscribe(endpoint);
    if (replayUrl) this.replayUrls.set(endpoint, replayUrl);
    const zmq = await this.load();
    // close() may have run while zeromq was loading: a socket opened now would never be closed and would keep
    // the process alive (reconnecting forever).
    if (this.closed || this.has(endpoint, url)) return;
    const sock = new zmq.Subscriber({ receiveHighWaterMark: 100_000, linger: 0, reconnectInterval: 200 });
    sock.subscribe();
    const sub: Sub = { url, sock, replayUrl: this.replayUrls.get(endpoint), connected: false, pending: null };
    this.socks.set(endpoint, sub);
    sock.events.on('connect', () => {
      sub.connected = true;
      void this.replay(endpoint, sub);
    });
    sock.events.on('disconnect', () => {
      sub.connected = false;
      this.disconnects++;
      this.index.reset(endpoint);
      this.log?.debug({ endpoint, url }, 'KV event stream disconnected; endpoint cache forgotten');
    });
    sock.connect(url);
    void this.pump(endpoint, sock);
  }

  private readonly replayUrls = new Map<string, string>();

  /** Where the endpoint's replay socket listens (label or announcement); replays now if the stream is up. */
  setReplay(endpoint: string, url: string | undefined): void {
    if (!url) return;
    if (this.replayUrls.get(endpoint) === url) return;
    this.replayUrls.set(endpoint, url);
    const sub = this.socks.get(endpoint);
    if (!sub) return;
    sub.replayUrl = url;
    if (sub.connected) void this.replay(endpoint, sub);
  }

  replayUrlOf(endpoint: string): string | undefined {
    return this.replayUrls.get(endpoint);
  }

  /** Asks the replay socket for every buffered batch and applies them before the live ones held meanwhile. */
  private async replay(endpoint: string, sub: Sub): Promise<void> {
    if (!sub.replayUrl || sub.pending || this.closed) return;
    const zmq = this.zmq!;
    sub.pending = [];
    const dealer = new zmq.Dealer({ linger: 0, receiveTimeout: REPLAY_TIMEOUT_MS });
    this.replays++;
    try {
      dealer.connect(sub.replayUrl);
      await dealer.send([Buffer.alloc(0), Buffer.alloc(8)]);
      // A replay starts the endpoint's view afresh: it covers everything the engine still buffers.
      this.index.reset(endpoint);
      for (;;) {
        const frames = await dealer.receive();
        const [seq, payload] = frames.length >= 3 ? [frames[1], frames[2]] : [frames[0], frames[1]];
        if (readSeq(seq) === -1n) break;
        if (this.socks.get(endpoint) !== sub) return;
        this.apply(endpoint, seq, payload);
        this.replayedBatches++;
      }
    } catch (err) {
      this.replayFailures++;
      this.log?.warn({ endpoint, url: sub.replayUrl, err: (err as Error).message }, 'KV event replay failed');
    } finally {
      dealer.close();
      const held = sub.pending ?? [];
      sub.pending = null;
      if (this.socks.get(endpoint) === sub) for (const f of held) this.applyFrames(endpoint, f);
    }
  }

  unsubscribe(endpoint: string): void {
    const cur = this.socks.get(endpoint);
    if (!cur) return;
    this.socks.delete(endpoint);
    cur.sock.close();
    this.replayUrls.delete(endpoint);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    for (const key of [...this.socks.keys()]) this.unsubscribe(key);
    this.replayUrls.clear();
  }

  private applyFrames(endpoint: string, frames: Uint8Array[]): void {
    // [topic, seq, payload]; tolerate publishers without a topic frame.
    const seqFrame = frames.length >= 3 ? frames[1] : frames[0];
    const payload = frames.length >= 3 ? frames[2] : frames[1];
    this.apply(endpoint, seqFrame, payload);
  }

  private apply(endpoint: string, seqFrame: Uint8Array, payload: Uint8Array): void {
    try {
      applyKvMessage(this.index, endpoint, seqFrame, payload);
    } catch (err) {
      this.decodeErrors++;
      this.log?.warn({ endpoint, err: (err as Error).message }, 'undecodable KV event batch ignored');
    }
  }

  private async pump(endpoint: string, sock: InstanceType<Zmq['Subscriber']>): Promise<void> {
    try {
      for await (const frames of sock) {
        if (this.socks.get(endpoint)?.sock !== sock) return;
        const cur = this.socks.get(endpoint);
        if (cur?.pending) cur.pending.push(frames);
        else this.applyFrames(endpoint, frames);
      }
    } catch (err) {
      if (this.socks.get(endpoint)?.sock === sock) {
        this.log?.warn({ endpoint, err: (err as Error).message }, 'KV event subscription failed');
      }
    }
  }
}
