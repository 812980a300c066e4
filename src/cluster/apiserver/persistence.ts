// Durable storage for --data-dir: an append-only write-ahead log of committed writes plus a periodic
// snapshot. Every acknowledged write is fdatasync'ed first (group commit: one sync per batch).
import { type FileHandle, mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Obj } from './util.js';

export interface LogRecord {
  rv: number;
  /** resource key (`group/plural`) */
  r: string;
  /** object key (`namespace/name`) */
  k: string;
  /** the stored object; absent for a removal */
  o?: Obj;
}

export interface LoadedState {
  rv: number;
  objects: Map<string, Map<string, Obj>>;
}

const WAL = 'wal.jsonl';
const SNAPSHOT = 'snapshot.json';

export class DiskLog {
  private buffer: string[] = [];
  private records = 0;

  private constructor(
    private readonly dir: string,
    private wal: FileHandle,
    private readonly compactEvery: number,
  ) {}

  /** Opens (creating if needed) the data dir and loads the state it holds. */
  static async open(dir: string, compactEvery = 20_000): Promise<{ log: DiskLog; state: LoadedState }> {
    await mkdir(dir, { recursive: true });
    const state: LoadedState = { rv: 0, objects: new Map() };
    const put = (r: string, k: string, o: Obj | undefined) => {
      let m = state.objects.get(r);
      if (!m) {
        m = new Map();
        state.objects.set(r, m);
      }
      if (o) m.set(k, o);
      else m.delete(k);
    };
    try {
      const snap = JSON.parse(await readFile(join(dir, SNAPSHOT), 'utf8')) as { rv: number; items: LogRecord[] };
      state.rv = snap.rv;
      for (const it of snap.items) put(it.r, it.k, it.o);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new Error(`cannot read ${join(dir, SNAPSHOT)}: ${String(e)}`);
    }
    let walRecords = 0;
    try {
      const text = await readFile(join(dir, WAL), 'utf8');
      const lines = text.split('\n');
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i];
        if (!line) continue;
        let rec: LogRecord;
        try {
          rec = JSON.parse(line) as LogRecord;
        } catch {
          // A torn last line is a write that was never acknowledged; anything earlier is corruption.
          if (i >= lines.length - 2) break;
          throw new Error(`corrupt write-ahead log ${join(dir, WAL)} at line ${i + 1}`);
        }
        walRecords++;
        if (rec.rv <= state.rv) continue;
        put(rec.r, rec.k, rec.o);
        state.rv = rec.rv;
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    const wal = await open(join(dir, WAL), 'a');
    const log = new DiskLog(dir, wal, compactEvery);
    log.records = walRecords;
    return { log, state };
  }

  append(rec: LogRecord): void {
    this.buffer.push(`${JSON.stringify(rec)}\n`);
  }

  /** Writes everything appended so far and syncs it to disk. */
  async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    const data = this.buffer.join('');
    this.records += this.buffer.length;
    this.buffer = [];
    await this.wal.write(data);
    await this.wal.datasync();
  }

  needsCompaction(): boolean {
    return this.records >= this.compactEvery;
  }

  /** Replaces the log by a snapshot of the full state (taken synchronously by the caller). */
  async compact(rv: number, items: LogRecord[]): Promise<void> {
    const tmp = join(this.dir, `${SNAPSHOT}.tmp`);
    const fh = await open(tmp, 'w');
    await fh.write(JSON.stringify({ rv, items }));
    await fh.sync();
    await fh.close();
    await rename(tmp, join(this.dir, SNAPSHOT));
    const d = await open(this.dir, 'r');
    await d.sync().catch(() => undefined);
    await d.close();
    // Records appended meanwhile are still in the buffer and go to the fresh log.
    await this.wal.close();
    this.wal = await open(join(this.dir, WAL), 'w');
    await this.wal.sync();
    this.records = 0;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.wal.close();
  }
}
