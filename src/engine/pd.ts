// Process-wide state shared by engines for prefill/decode disaggregation:
// - a registry of engines by engine id, so a decode engine can tell the prefill engine that it pulled the KV
//   blocks (NixlConnector's notification); engines in other processes free held blocks on timeout instead;
// - SGLang bootstrap rooms: a decode request waits until the prefill request with the same bootstrap_room
//   has finished its prefill, then pays the KV transfer.
export interface ReleasesHeld {
  releaseHeld(requestId: string): boolean;
}

export const engineRegistry = new Map<string, ReleasesHeld>();

type Waiter = (numTokens: number, failed: boolean) => void;

export interface BootstrapRoom {
  complete(numTokens: number, failed: boolean): void;
  wait(fn: Waiter): void;
}

interface RoomState {
  done: { numTokens: number; failed: boolean } | null;
  waiters: Waiter[];
  created: number;
}

const rooms = new Map<string, RoomState>();
const ROOM_TTL_MS = 120_000;

function gc(nowMs: number): void {
  if (rooms.size < 1024) return;
  for (const [k, r] of rooms) if (nowMs - r.created > ROOM_TTL_MS) rooms.delete(k);
}

/** The room for a bootstrap_room value; whichever side arrives first creates it. */
export function bootstrapRoom(key: string): BootstrapRoom {
  let r = rooms.get(key);
  if (!r) {
    const now = Date.now();
    gc(now);
    r = { done: null, waiters: [], created: now };
    rooms.set(key, r);
  }
  const state = r;
  return {
    complete(numTokens, failed) {
      if (state.done) return;
      state.done = { numTokens, failed };
      const ws = state.waiters;
      state.waiters = [];
      for (const w of ws) w(numTokens, failed);
      if (ws.length > 0) rooms.delete(key);
    },
    wait(fn) {
      if (state.done) {
        rooms.delete(key);
        fn(state.done.numTokens, state.done.failed);
      } else state.waiters.push(fn);
    },
  };
}
