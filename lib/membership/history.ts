/**
 * The transmit history: the last 500 sequenced datagrams we sent, so that a
 * peer's NS_rexmit can be answered with the identical bytes (spec 3.4).
 */
export const HISTORY_SIZE = 500;

interface Entry {
  seq: number;
  netstring: Buffer;
  classic: Buffer | undefined;
  lastRexmitMs: number;
}

export class TransmitHistory {
  private readonly ring: (Entry | undefined)[] = new Array<Entry | undefined>(HISTORY_SIZE);
  private hiSeq = 0;

  add(seq: number, netstring: Buffer, classic: Buffer | undefined): void {
    this.ring[seq % HISTORY_SIZE] = { seq, netstring, classic, lastRexmitMs: 0 };
    if (seq > this.hiSeq) this.hiSeq = seq;
  }

  get highest(): number {
    return this.hiSeq;
  }

  /** Lowest sequence number still held. */
  get lowest(): number {
    return Math.max(1, this.hiSeq - HISTORY_SIZE + 1);
  }

  lookup(seq: number): Entry | undefined {
    const e = this.ring[seq % HISTORY_SIZE];
    return e && e.seq === seq ? e : undefined;
  }
}
