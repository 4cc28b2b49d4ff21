/**
 * One heartbeat medium (spec 7): a way to send a datagram to every peer and
 * to hear theirs. The daemon opens every medium named in ha.cf and sends each
 * outbound message on all of them; a medium never parses what it carries.
 */
export interface ReceivedPacket {
  /** The raw datagram or, for serial, one complete `>>>`…`<<<` frame. */
  data: Buffer;
  /** Where it came from, for debug logs only (authenticity comes from the digest). */
  from: string;
}

export type MediumKind = 'bcast' | 'ucast' | 'mcast' | 'ucast6' | 'mcast6' | 'serial' | 'ping' | 'ping6' | 'ping_group';

export interface Medium {
  readonly kind: MediumKind;
  /** The link name heartbeat reports: the interface (`eth0`) or device path (`/dev/ttyS0`). */
  readonly linkName: string;
  /** The log line heartbeat prints when the medium starts (`glib: …` text without the prefix). */
  readonly description: string;
  /** Lines heartbeat's plugin logs at open before the description (ucast6's device bindings). */
  readonly startNotes?: readonly string[];
  /**
   * True when send() accepts only classic text (`>>>\n`…`<<<\n`): serial
   * (spec 7.5). The caller converts netstring messages and recomputes the
   * classic `auth` field; the medium refuses anything else via onError.
   */
  readonly classicOnly?: boolean;
  /** Opens sockets or devices. Rejects with an HbError naming the medium on failure. */
  open(onPacket: (pkt: ReceivedPacket) => void, onError: (err: Error) => void): Promise<void>;
  /** Sends one datagram; never throws (a failure is reported through onError). */
  send(data: Buffer): void;
  close(): Promise<void>;
}
