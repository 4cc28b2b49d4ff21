/**
 * DNS negotiate check: ask the real server for the A record of `request`
 * (or the PTR record when `request` is an IPv4 address); up when one answer
 * equals `receive`. UDP, or TCP for protocol=tcp services.
 */
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { CheckFailure, SocketIO } from './io.js';
import type { CheckContext, CheckOutcome } from './types.js';

const TYPE_A = 1;
const TYPE_PTR = 12;

export function buildQuery(name: string, id: number): { packet: Buffer; type: number } {
  let qname = name.replace(/^\/+/, '').replace(/\.$/, '');
  let type = TYPE_A;
  if (/^\d+\.\d+\.\d+\.\d+$/.test(qname)) {
    qname = `${qname.split('.').reverse().join('.')}.in-addr.arpa`;
    type = TYPE_PTR;
  }
  const labels = qname.split('.').filter(Boolean).map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')]));
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2); // recursion desired
  header.writeUInt16BE(1, 4);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(type, 0);
  tail.writeUInt16BE(1, 2);
  return { packet: Buffer.concat([header, ...labels, Buffer.from([0]), tail]), type };
}

function readName(buf: Buffer, start: number): { name: string; next: number } {
  const parts: string[] = [];
  let pos = start;
  let next = -1;
  for (let guard = 0; guard < 128; guard++) {
    const len = buf[pos];
    if (len === undefined) throw new CheckFailure('truncated DNS name');
    if (len === 0) { pos++; break; }
    if ((len & 0xc0) === 0xc0) {
      const ptr = ((len & 0x3f) << 8) | (buf[pos + 1] ?? 0);
      if (next < 0) next = pos + 2;
      pos = ptr;
      continue;
    }
    parts.push(buf.toString('latin1', pos + 1, pos + 1 + len));
    pos += 1 + len;
  }
  return { name: parts.join('.'), next: next < 0 ? pos : next };
}

/** The A addresses and PTR names in a response (network input: never throws out). */
export function parseAnswers(buf: Buffer, id: number): string[] | string {
  try {
    if (buf.length < 12 || buf.readUInt16BE(0) !== id) return 'response does not match the query';
    const rcode = buf.readUInt16BE(2) & 0xf;
    if (rcode !== 0) return `DNS error rcode ${rcode}`;
    const qd = buf.readUInt16BE(4);
    const an = buf.readUInt16BE(6);
    let pos = 12;
    for (let i = 0; i < qd; i++) pos = readName(buf, pos).next + 4;
    const out: string[] = [];
    for (let i = 0; i < an; i++) {
      pos = readName(buf, pos).next;
      const type = buf.readUInt16BE(pos);
      const rdlen = buf.readUInt16BE(pos + 8);
      const rd = pos + 10;
      if (type === TYPE_A && rdlen === 4) out.push([0, 1, 2, 3].map((k) => buf[rd + k] ?? 0).join('.'));
      if (type === TYPE_PTR) out.push(readName(buf, rd).name);
      pos = rd + rdlen;
    }
    return out;
  } catch (e) {
    return `malformed DNS response: ${(e as Error).message}`;
  }
}

async function askUdp(c: CheckContext, packet: Buffer, signal: AbortSignal): Promise<Buffer> {
  const sock = createSocket('udp4');
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      signal.addEventListener('abort', () => reject(new CheckFailure('Connection timed out')), { once: true });
      sock.on('error', (e) => reject(new CheckFailure(e.message)));
      sock.on('message', (m) => resolve(m));
      sock.send(packet, c.port, c.host);
    });
  } finally {
    sock.close();
  }
}

async function askTcp(c: CheckContext, packet: Buffer, signal: AbortSignal): Promise<Buffer> {
  const io = await SocketIO.open(c.host, c.port, signal);
  try {
    const len = Buffer.alloc(2);
    len.writeUInt16BE(packet.length, 0);
    io.socket.write(Buffer.concat([len, packet]));
    const data = Buffer.from(await io.expect(/^[\s\S]{2}/, 'the DNS reply length'), 'latin1');
    const want = data.readUInt16BE(0);
    let got = data.subarray(2);
    while (got.length < want) got = Buffer.concat([got, Buffer.from(await io.expect(/[\s\S]/, 'the DNS reply'), 'latin1')]);
    return got.subarray(0, want);
  } finally {
    io.close();
  }
}

export async function checkDns(c: CheckContext, signal: AbortSignal): Promise<CheckOutcome> {
  const id = randomBytes(2).readUInt16BE(0);
  const { packet } = buildQuery(c.request, id);
  const reply = c.protocol === 'tcp' ? await askTcp(c, packet, signal) : await askUdp(c, packet, signal);
  const answers = parseAnswers(reply, id);
  if (typeof answers === 'string') return { up: false, message: answers };
  const want = c.receive.replace(/\.$/, '');
  if (answers.some((a) => a.replace(/\.$/, '') === want)) return { up: true, message: 'Success' };
  return { up: false, message: `Response mismatch (got ${answers.join(', ') || 'no answer'})` };
}
