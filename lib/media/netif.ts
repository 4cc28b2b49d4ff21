/**
 * IPv4 facts about a network interface, as the UDP media need them.
 *
 * Heartbeat asks the kernel (SIOCGIFADDR / SIOCGIFBRDADDR); Node only offers
 * os.networkInterfaces(), which gives address and netmask but no broadcast,
 * so the broadcast is computed as address | ~netmask. That equals what the
 * kernel reports whenever the address was added with `brd +` (netns-lab
 * does) or by tools that default to it (ifupdown, NetworkManager, DHCP).
 *
 * libuv lists only interfaces that are UP and RUNNING, so an interface
 * without carrier (cable pulled at boot) is missing there although it has
 * its address; heartbeat starts on such a link and it comes alive with the
 * carrier. For those we ask iproute2 (`ip -4 -o addr show dev X`).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { HbError } from '../util/errors.js';
import { MEDIA } from './codes.js';

export interface Ipv4Interface {
  name: string;
  address: string;
  netmask: string;
  prefixLength: number;
  /** address | ~netmask (see the module comment). */
  broadcast: string;
}

export type InterfaceTable = NodeJS.Dict<NetworkInterfaceInfo[]>;

export function ipv4ToInt(addr: string): number {
  const parts = addr.split('.');
  if (parts.length !== 4) throw new HbError(MEDIA.BAD_ADDRESS, `not an IPv4 address: ${addr}`);
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) throw new HbError(MEDIA.BAD_ADDRESS, `not an IPv4 address: ${addr}`);
    n = n * 256 + Number(p);
  }
  return n;
}

export function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => String(Math.floor(n / 2 ** s) % 256)).join('.');
}

/** The directed broadcast address of `address` under `netmask`. */
export function broadcastOf(address: string, netmask: string): string {
  // >>> 0 keeps the result unsigned: JS bit operators work on int32.
  return intToIpv4((ipv4ToInt(address) | ~ipv4ToInt(netmask)) >>> 0);
}

export function prefixLengthOf(netmask: string): number {
  let n = ipv4ToInt(netmask);
  let bits = 0;
  while (n & 0x80000000) {
    bits++;
    n = (n << 1) >>> 0;
  }
  return bits;
}

/** True for class-D (224.0.0.0/4) addresses, the only valid mcast groups. */
export function isMulticast(addr: string): boolean {
  try {
    return ipv4ToInt(addr) >>> 28 === 0xe;
  } catch {
    return false;
  }
}

/**
 * The first IPv4 address of `iface` (the primary one: the kernel lists it
 * before secondaries such as service addresses that IPaddr adds).
 * `who` prefixes error messages (`bcast`, `ucast`, `mcast`).
 */
export function lookupIpv4(iface: string, who: string, table: InterfaceTable = networkInterfaces()): Ipv4Interface {
  const entries = table[iface];
  let v4: { address: string; netmask: string } | undefined = entries?.find((e) => e.family === 'IPv4');
  if (entries === undefined) {
    if (!interfaceExists(iface)) {
      const known = [...Object.keys(table), ...sysfsInterfaces().filter((n) => table[n] === undefined)].join(', ');
      throw new HbError(MEDIA.IFACE_NOT_FOUND, `${who}: interface ${iface} not found (known: ${known || 'none'})`);
    }
    v4 = addressFromIproute(iface);
  }
  if (v4 === undefined) {
    throw new HbError(MEDIA.IFACE_NO_IPV4, `${who}: interface ${iface} has no IPv4 address`);
  }
  return {
    name: iface,
    address: v4.address,
    netmask: v4.netmask,
    prefixLength: prefixLengthOf(v4.netmask),
    broadcast: broadcastOf(v4.address, v4.netmask),
  };
}

/** True when the kernel has an interface of that name (also one that is down or has no address). */
export function interfaceExists(iface: string): boolean {
  return /^[^/\s]{1,15}$/.test(iface) && iface !== '.' && iface !== '..' && existsSync(`/sys/class/net/${iface}`);
}

/**
 * The kernel's index of a device the IPv6 media name (from sysfs); throws
 * in the plugins' words when there is none (`ucast6: device [eth9] is
 * invalid or not set up properly`).
 */
export function requireDevice(kind: string, iface: string): number {
  let index = NaN;
  if (interfaceExists(iface)) {
    try {
      index = Number(readFileSync(`/sys/class/net/${iface}/ifindex`, 'utf8').trim());
    } catch {
      // vanished meanwhile
    }
  }
  if (!Number.isInteger(index) || index <= 0) throw new HbError(MEDIA.IFACE_NOT_FOUND, `${kind}: device [${iface}] is invalid or not set up properly`);
  return index;
}

function sysfsInterfaces(): string[] {
  try {
    return readdirSync('/sys/class/net').sort();
  } catch {
    return [];
  }
}

/** First IPv4 address of an interface libuv does not list (no carrier, or down). */
function addressFromIproute(iface: string): { address: string; netmask: string } | undefined {
  let out: string;
  try {
    out = execFileSync('ip', ['-4', '-o', 'addr', 'show', 'dev', iface], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
  const m = /\binet (\d+\.\d+\.\d+\.\d+)\/(\d+)/.exec(out);
  if (m?.[1] === undefined || m[2] === undefined) return undefined;
  const prefix = Number(m[2]);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { address: m[1], netmask: intToIpv4(mask) };
}
