/**
 * A raw IPv4 ICMP socket, through our own Node-API addon (native/hb_icmp.c).
 *
 * Why an addon of our own rather than the `raw-socket` package: raw-socket
 * (1.8.1, last release Dec 2024) does build here, but it is written against
 * NAN, i.e. the V8 C++ ABI, and pins `nan` 2.19, so every Node major upgrade
 * is a new chance for the build to break; it also offers far more than we
 * need. Our addon is ~250 lines of C against Node-API (ABI-stable across Node
 * versions), needs nothing but Node's headers, and is built by node-gyp from
 * the package's install script. Datagrams are read on the main thread from a
 * uv_poll watcher, so no thread blocks in recvfrom().
 *
 * The addon is found by lib/util/addon.ts.
 */
import { HbError } from '../util/errors.js';
import { MEDIA } from './codes.js';
import { errnoName, findAddon, loadAddon } from '../util/addon.js';

export { errnoName } from '../util/addon.js';

declare const handleBrand: unique symbol;
type NativeHandle = { readonly [handleBrand]: true };

interface IcmpAddon {
  open(
    acceptMask: number,
    onPacket: (datagram: Buffer, from: string) => void,
    onError: (errno: number, syscall: string) => void,
    family?: 4 | 6,
  ): NativeHandle;
  /** 0 or an errno value. */
  send(handle: NativeHandle, data: Buffer, address: string): number;
  close(handle: NativeHandle): void;
}

/** The compiled addon's path, searching upwards from `start`; undefined when not built. */
export function findIcmpAddon(start?: string): string | undefined {
  return findAddon('hb_icmp', start);
}

/** Loads the addon (Node caches it); throws HbError ICMP_ADDON_MISSING / ICMP_ADDON_LOAD. */
export function loadIcmpAddon(): IcmpAddon {
  return loadAddon<IcmpAddon>('hb_icmp', 'ICMP', 'raw ICMP');
}

export interface IcmpSocketOptions {
  /** Who owns the socket, for error messages (`ping 10.0.0.254`). */
  who: string;
  /** 4 (default): raw ICMP; 6: raw ICMPv6. */
  family?: 4 | 6;
  /** ICMP types to receive (others are dropped by the kernel's ICMP_FILTER); for ICMPv6 128..159. */
  acceptTypes: readonly number[];
  /** IPv4: one whole datagram (header included); IPv6: the ICMPv6 message alone. And its source address. */
  onDatagram: (datagram: Buffer, from: string) => void;
  /** Receive-side failures; never called synchronously from open(). */
  onError: (err: HbError) => void;
}

export class IcmpSocket {
  private handle: NativeHandle | undefined;

  private constructor(
    private readonly addon: IcmpAddon,
    private readonly who: string,
    handle: NativeHandle,
  ) {
    this.handle = handle;
  }

  /**
   * Opens socket(AF_INET, SOCK_RAW, IPPROTO_ICMP). Throws HbError
   * MEDIA_OPEN_FAILED (EPERM without CAP_NET_RAW) or an ICMP_ADDON_* code.
   */
  static open(opts: IcmpSocketOptions): IcmpSocket {
    const addon = loadIcmpAddon();
    const v6 = opts.family === 6;
    // The addon's ICMPv6 mask counts from type 128 (the informational types, echo included).
    const base = v6 ? 128 : 0;
    let mask = 0;
    for (const t of opts.acceptTypes) {
      if (!Number.isInteger(t) || t < base || t > base + 31) {
        throw new HbError(MEDIA.ICMP_BAD_TYPE, `${opts.who}: ICMP type ${t} cannot be filtered (${base}..${base + 31})`);
      }
      mask |= 1 << (t - base);
    }
    let handle: NativeHandle;
    try {
      handle = addon.open(
        mask >>> 0,
        (datagram, from) => {
          try {
            opts.onDatagram(datagram, from);
          } catch (err) {
            // A receive callback must not turn into an uncaught exception of the daemon.
            opts.onError(new HbError(MEDIA.RECEIVE_FAILED, `${opts.who}: packet handler failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err }));
          }
        },
        (errno, syscall) => {
          opts.onError(new HbError(MEDIA.RECEIVE_FAILED, `${opts.who}: ${syscall} failed: ${errnoName(errno)}`));
        },
        v6 ? 6 : 4,
      );
    } catch (err) {
      const errno = typeof (err as { errno?: unknown }).errno === 'number' ? (err as { errno: number }).errno : undefined;
      const why = errno !== undefined ? errnoName(errno) : err instanceof Error ? err.message : String(err);
      throw new HbError(MEDIA.OPEN_FAILED, `${opts.who}: Can't open RAW socket: ${why}`, { cause: err });
    }
    return new IcmpSocket(addon, opts.who, handle);
  }

  get isOpen(): boolean {
    return this.handle !== undefined;
  }

  /** Sends one ICMP message (header + data) to an address of the socket's family; returns undefined or the errno name. */
  send(icmp: Buffer, address: string): string | undefined {
    if (this.handle === undefined) return 'EBADF';
    const rc = this.addon.send(this.handle, icmp, address);
    return rc === 0 ? undefined : errnoName(rc);
  }

  /** Idempotent; no callback runs after it returns. */
  close(): void {
    const h = this.handle;
    this.handle = undefined;
    if (h !== undefined) this.addon.close(h);
  }

  toString(): string {
    return `IcmpSocket(${this.who})`;
  }
}
