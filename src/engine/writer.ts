// What the chat/completions and Responses API writers share: the request's lifecycle (abort, finish), the streaming
// cadence (first token at once, then every --stream-interval tokens) and the drop-mid-stream fault.
import type { ServerResponse } from 'node:http';
import type { Engine } from './engine.js';
import type { EngineRequest } from './request.js';

export abstract class GenerationWriter {
  /** Output tokens already written. */
  protected sent = 0;
  /** SSE units written (chunks or events). */
  protected writes = 0;
  protected readonly created = Math.floor(Date.now() / 1000);
  protected req: EngineRequest | null = null;
  protected done = false;

  constructor(
    protected readonly engine: Engine,
    protected readonly res: ServerResponse,
    protected readonly stream: boolean,
    protected readonly id: string,
    protected readonly model: string,
    /** Injected fault: cut the connection after this many SSE units (or, unstreamed, instead of answering); -1 = none. */
    protected readonly dropAfter: number,
  ) {}

  attach(req: EngineRequest): void {
    this.req = req;
  }

  update(r: EngineRequest): void {
    if (this.done) return;
    if (r.state === 'finished') {
      this.done = true;
      if (r.finishReason !== 'abort') this.finish(r); // abort: the client went away (or the engine is closing)
      return;
    }
    if (!this.stream) return;
    const pending = r.numOutputTokens - this.sent;
    if (pending > 0 && (this.sent === 0 || pending >= this.engine.cfg.streamInterval)) this.progress(r);
  }

  /** The generation ended (stop or length): the last chunk(s), or the whole body. */
  protected abstract finish(r: EngineRequest): void;
  /** New tokens to stream. */
  protected abstract progress(r: EngineRequest): void;

  protected send(s: string): void {
    if (this.res.destroyed) return;
    this.res.write(s);
    this.writes++;
    if (this.dropAfter >= 0 && this.writes >= this.dropAfter) {
      // Injected fault: cut the connection mid-stream (no final event, no [DONE]).
      this.done = true;
      this.res.destroy();
      if (this.req) this.engine.cancel(this.req);
    }
  }
}
