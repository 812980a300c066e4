// Sliding-window usage per user: weighted tokens and request counts in 1-second slots, summed over the window.
// The caller passes the time, so the arithmetic is tested without waiting.

interface Slot {
  at: number; // slot index (ms / slotMs)
  tokens: number;
  requests: number;
}

export interface Usage {
  tokens: number;
  requests: number;
}

export class UsageWindow {
  private readonly users = new Map<string, Slot[]>();

  constructor(
    readonly windowMs: number,
    private readonly slotMs = 1000,
  ) {}

  add(user: string, tokens: number, requests: number, now: number): void {
    const idx = Math.floor(now / this.slotMs);
    let slots = this.users.get(user);
    if (!slots) {
      slots = [];
      this.users.set(user, slots);
    }
    const last = slots.at(-1);
    if (last && last.at === idx) {
      last.tokens += tokens;
      last.requests += requests;
    } else slots.push({ at: idx, tokens, requests });
    this.prune(user, slots, now);
  }

  get(user: string, now: number): Usage {
    const slots = this.users.get(user);
    if (!slots) return { tokens: 0, requests: 0 };
    this.prune(user, slots, now);
    let tokens = 0;
    let requests = 0;
    for (const s of slots) {
      tokens += s.tokens;
      requests += s.requests;
    }
    return { tokens: Math.max(0, tokens), requests };
  }

  get size(): number {
    return this.users.size;
  }

  private prune(user: string, slots: Slot[], now: number): void {
    const oldest = Math.floor((now - this.windowMs) / this.slotMs);
    let drop = 0;
    while (drop < slots.length && slots[drop].at <= oldest) drop++;
    if (drop) slots.splice(0, drop);
    if (slots.length === 0) this.users.delete(user);
  }
}
