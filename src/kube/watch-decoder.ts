// Incremental decoder for a watch response body: newline-delimited JSON, where TCP chunk boundaries can fall
// anywhere — inside a line, inside a multi-byte UTF-8 character, or between "\r" and "\n".
import { StringDecoder } from 'node:string_decoder';
import { WatchDecodeError } from './errors.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
export interface WatchEvent<T = any> {
  type: WatchEventType;
  object: T;
}

const TYPES = new Set<string>(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']);

/** Longest line we accept before declaring the stream broken (a single object larger than this is not sane). */
const MAX_LINE = 64 * 1024 * 1024;

export class WatchLineDecoder {
  private readonly text = new StringDecoder('utf8');
  private partial = '';

  /** Feeds one chunk; returns the complete, non-blank lines it finished. */
  push(chunk: Buffer | string): string[] {
    const s = this.partial + (typeof chunk === 'string' ? chunk : this.text.write(chunk));
    const parts = s.split('\n');
    this.partial = parts.pop() ?? '';
    if (this.partial.length > MAX_LINE)
      throw new WatchDecodeError('watch event line too long', this.partial.slice(0, 200));
    return parts.map((l) => l.trim()).filter((l) => l.length > 0);
  }

  /** Stream ended: returns the unterminated last line, if any (it is decoded like the others). */
  end(): string[] {
    const rest = (this.partial + this.text.end()).trim();
    this.partial = '';
    return rest ? [rest] : [];
  }
}

/** Parses one line into a watch event; anything else is a WatchDecodeError (never silently dropped). */
export function parseWatchLine(line: string): WatchEvent {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    throw new WatchDecodeError(`malformed watch event (invalid JSON: ${(e as Error).message})`, line.slice(0, 200));
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new WatchDecodeError('malformed watch event (not an object)', line.slice(0, 200));
  }
  const ev = v as { type?: unknown; object?: unknown };
  if (typeof ev.type !== 'string' || !TYPES.has(ev.type)) {
    throw new WatchDecodeError(`malformed watch event (unknown type ${JSON.stringify(ev.type)})`, line.slice(0, 200));
  }
  if (typeof ev.object !== 'object' || ev.object === null || Array.isArray(ev.object)) {
    throw new WatchDecodeError('malformed watch event (object missing)', line.slice(0, 200));
  }
  return ev as WatchEvent;
}
