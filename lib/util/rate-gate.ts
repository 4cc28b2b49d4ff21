/**
 * A per-key rate limit whose memory is bounded whatever the keys are.
 *
 * Keys often come from the wire (a sender's name, an address): a plain map
 * of "last time we logged this key" grows with every made-up name an
 * attacker sends. This one holds at most `maxKeys` entries: when full it
 * first forgets keys whose interval has passed, then the oldest key.
 * Forgetting a key only means its next complaint may be logged a little
 * earlier — never that one is lost for good.
 */
export class RateGate {
  /** Key → time it last passed; Map keeps insertion order, oldest first. */
  private readonly last = new Map<string, number>();
  private swallowed = 0;

  constructor(
    private readonly intervalMs: number,
    private readonly maxKeys: number,
  ) {
    if (!(maxKeys >= 1)) throw new RangeError('RateGate: maxKeys must be at least 1');
  }

  /**
   * Whether `key` may pass at `nowMs` (at most once per interval). Returns
   * the number of passes refused since the previous pass of any key, so the
   * caller can say "(N similar suppressed)", or false when refused.
   */
  pass(key: string, nowMs: number): { suppressed: number } | false {
    const at = this.last.get(key);
    if (at !== undefined && nowMs - at < this.intervalMs) {
      this.swallowed++;
      return false;
    }
    this.last.delete(key);
    if (this.last.size >= this.maxKeys) this.evict(nowMs);
    this.last.set(key, nowMs);
    const suppressed = this.swallowed;
    this.swallowed = 0;
    return { suppressed };
  }

  /** Number of keys held (for tests and memory checks). */
  get size(): number {
    return this.last.size;
  }

  private evict(nowMs: number): void {
    for (const [k, at] of this.last) {
      if (nowMs - at >= this.intervalMs) this.last.delete(k);
    }
    while (this.last.size >= this.maxKeys) {
      const oldest = this.last.keys().next();
      if (oldest.done === true) break;
      this.last.delete(oldest.value);
    }
  }
}
