// What every API request of a channel reads first, its merchant and the merchant's parsed public
// key, kept in memory: reading the row and parsing a PEM on each request would dominate the
// sandbox's cost. Another sandbox process sharing the database may re-register a merchant, so an
// entry is read again after LEDGER_CACHE_TTL_MS, and at once when the caller asks for it fresh
// (after a signature failed to verify with the cached key).
import { createPublicKey, type KeyObject } from 'node:crypto';

/** How long a re-registration made by another sandbox process may go unseen here. */
export const LEDGER_CACHE_TTL_MS = 5_000;
/** Entries are only ever made for registered merchants; past this many (rotations included) the cache starts over. */
const LEDGER_CACHE_ENTRIES_MAX = 10_000;

export class LedgerCache<Value> {
  private readonly entries = new Map<string, { value: Value; loadedAtMs: number }>();

  /** `load` reads the row; `previous` is the entry it replaces, so a parsed key can be kept when the row's PEM is unchanged. */
  constructor(private readonly load: (key: string, previous: Value | undefined) => Promise<Value | undefined>) {}

  async get(key: string, options: { fresh: boolean } = { fresh: false }): Promise<Value | undefined> {
    const cached = this.entries.get(key);
    if (cached && !options.fresh && Date.now() - cached.loadedAtMs < LEDGER_CACHE_TTL_MS) return cached.value;
    const value = await this.load(key, cached?.value);
    if (value === undefined) this.entries.delete(key);
    else this.set(key, value);
    return value;
  }

  /** After this process wrote the row itself. */
  set(key: string, value: Value): void {
    if (!this.entries.has(key) && this.entries.size >= LEDGER_CACHE_ENTRIES_MAX) this.entries.clear();
    this.entries.set(key, { value, loadedAtMs: Date.now() });
  }

  /** Forgets every entry whose value matches, e.g. a merchant's previous certificate after it registered a new one. */
  deleteWhere(matches: (value: Value) => boolean): void {
    for (const [key, entry] of this.entries) if (matches(entry.value)) this.entries.delete(key);
  }

  peek(key: string): Value | undefined {
    return this.entries.get(key)?.value;
  }
}

/** The key of `pem`, taken from the entry it replaces when that was parsed from the same PEM. */
export function reusedPublicKey(pem: string, previous: { publicKeyPem: string; publicKey: KeyObject } | undefined): KeyObject {
  return previous?.publicKeyPem === pem ? previous.publicKey : createPublicKey(pem);
}
