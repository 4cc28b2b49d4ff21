/**
 * Reading lab captures for wire comparisons: a minimal pcap reader (classic
 * libpcap files with Ethernet frames, as tcpdump -w writes them) and an
 * independent netstring field scanner, written from spec §1.3 rather than
 * with lib/wire, so that the comparison does not trust the code under test.
 */
import { readFileSync } from 'node:fs';

export interface UdpDatagram {
  /** capture time, seconds (float) */
  time: number;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  ttl: number;
  payload: Buffer;
}

/** One captured frame: capture time (seconds, float) and the Ethernet frame. */
export interface PcapFrame {
  time: number;
  frame: Buffer;
}

/** The frames of a classic pcap file (micro- or nanosecond, either byte order). */
export function pcapFrames(file: string): PcapFrame[] {
  const b = readFileSync(file);
  if (b.length < 24) return [];
  const magic = b.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && b.readUInt32BE(0) !== 0xa1b2c3d4 && b.readUInt32BE(0) !== 0xa1b23c4d) throw new Error(`${file}: not a pcap file`);
  const nano = (le ? magic : b.readUInt32BE(0)) === 0xa1b23c4d;
  const u32 = (o: number): number => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const out: PcapFrame[] = [];
  for (let o = 24; o + 16 <= b.length;) {
    const incl = u32(o + 8);
    out.push({ time: u32(o) + u32(o + 4) / (nano ? 1e9 : 1e6), frame: b.subarray(o + 16, o + 16 + incl) });
    o += 16 + incl;
  }
  return out;
}

/** UDP/IPv4 datagrams of a classic pcap file (link type Ethernet); others are skipped. */
export function readPcap(file: string): UdpDatagram[] {
  const out: UdpDatagram[] = [];
  for (const { time, frame } of pcapFrames(file)) {
    if (frame.length < 14 + 20 || frame.readUInt16BE(12) !== 0x0800) continue;
    const ip = frame.subarray(14);
    const ihl = (ip[0] ?? 0) & 0x0f;
    if (ip[9] !== 17 || ihl < 5) continue;
    const udp = ip.subarray(ihl * 4, ip.readUInt16BE(2));
    if (udp.length < 8) continue;
    out.push({
      time,
      src: `${ip[12]}.${ip[13]}.${ip[14]}.${ip[15]}`,
      dst: `${ip[16]}.${ip[17]}.${ip[18]}.${ip[19]}`,
      sport: udp.readUInt16BE(0),
      dport: udp.readUInt16BE(2),
      ttl: ip[8] ?? 0,
      payload: Buffer.from(udp.subarray(8, udp.readUInt16BE(4))),
    });
  }
  return out;
}

export interface NetstringField {
  type: number;
  name: string;
  value: Buffer;
}

export interface NetstringDatagram {
  fields: NetstringField[];
  /** `<authnum> <token>` of the trailer */
  trailer: string;
  /** bytes after the trailer's comma (must be none) */
  rest: number;
}

/** Scans `###\n` N:(t)name=value, … `%%%\n` M:trailer, ; undefined when the layout is not that. */
export function scanNetstring(p: Buffer): NetstringDatagram | undefined {
  if (p.subarray(0, 4).toString('latin1') !== '###\n') return undefined;
  let o = 4;
  const fields: NetstringField[] = [];
  const item = (): Buffer | undefined => {
    const colon = p.indexOf(0x3a, o);
    if (colon < 0 || colon - o > 10) return undefined;
    const lenText = p.subarray(o, colon).toString('latin1');
    if (!/^\d+$/.test(lenText)) return undefined;
    const n = Number(lenText);
    const body = p.subarray(colon + 1, colon + 1 + n);
    if (body.length !== n || p[colon + 1 + n] !== 0x2c) return undefined;
    o = colon + 2 + n;
    return body;
  };
  for (;;) {
    if (p.subarray(o, o + 4).toString('latin1') === '%%%\n') {
      o += 4;
      break;
    }
    const body = item();
    if (body === undefined) return undefined;
    const m = /^\((\d)\)([^=]*)=/.exec(body.toString('latin1'));
    if (!m?.[1] || m[2] === undefined) return undefined;
    fields.push({ type: Number(m[1]), name: m[2], value: body.subarray(m[0].length) });
  }
  const t = item();
  if (t === undefined) return undefined;
  return { fields, trailer: t.toString('latin1'), rest: p.length - o };
}

export const fieldText = (d: NetstringDatagram, name: string): string | undefined =>
  d.fields.find((f) => f.name === name)?.value.toString('latin1');

/** `name(type)` list: the layout to compare between senders. */
export const layoutOf = (d: NetstringDatagram): string => d.fields.map((f) => `${f.name}(${f.type})`).join(' ');
