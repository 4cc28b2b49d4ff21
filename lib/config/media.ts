/**
 * Media directives of ha.cf (spec 7): argument checks of heartbeat's HBcomm
 * plugins, minus the ones that need the running system (interface exists,
 * host resolves), which belong to the media layer when it opens them.
 */
import { asciiLower, atoi, tokens, WHITESPACE } from './text.js';
import { currentUdpPort, laxNumber, MAX_MEDIA, report, unimplemented, type ParseContext } from './state.js';
import type { MediaLine } from './types.js';

/** Baud rates heartbeat's StringToBaud knows on Linux. */
export const BAUD_RATES: readonly number[] = [9600, 19200, 38400, 57600, 115200, 230400, 460800];

function addMedium(ctx: ParseContext, m: MediaLine | undefined): boolean {
  if (ctx.mediaCount >= MAX_MEDIA) {
    report(ctx, 'error', 'HACF_TOO_MANY', `Too many media specified (> ${MAX_MEDIA})`);
    return false;
  }
  ctx.mediaCount++;
  if (m !== undefined) ctx.cfg.media.push(m);
  return true;
}

function mediaError(ctx: ParseContext, message: string): false {
  report(ctx, 'error', 'HACF_BAD_MEDIA', message);
  return false;
}

function extraArgs(ctx: ParseContext, directive: string, extra: string[]): void {
  if (extra.length === 0) return;
  report(ctx, 'warning', 'HACF_EXTRA_ARGS', `${directive}: extra arguments [${extra.join(' ')}] ignored`);
}

/** `bcast <if>`: one medium per interface; the port is latched by the first bcast. */
export function bcast(iface: string, ctx: ParseContext): boolean {
  ctx.bcastPort ??= currentUdpPort(ctx);
  return addMedium(ctx, { kind: 'bcast', iface, port: ctx.bcastPort, line: ctx.line });
}

/** `ucast <dev> <peer>` (whole line). An empty line is accepted and adds nothing, as in heartbeat. */
export function ucast(rest: string, ctx: ParseContext): boolean {
  const [dev, peer, ...extra] = tokens(rest, WHITESPACE);
  if (dev === undefined) {
    report(ctx, 'warning', 'HACF_NO_VALUE', 'ucast line has no interface or peer; ignored');
    return true;
  }
  if (peer === undefined) {
    return mediaError(ctx, `ucast: [${dev}] missing target IP address/hostname: use ucast <interface> <peer address>`);
  }
  extraArgs(ctx, 'ucast', extra);
  ctx.ucastPort ??= currentUdpPort(ctx);
  return addMedium(ctx, { kind: 'ucast', iface: dev, peer, port: ctx.ucastPort, line: ctx.line });
}

/** `mcast <dev> <group> <port> <ttl> <loop>` (whole line), checked like the mcast plugin. */
export function mcast(rest: string, ctx: ParseContext): boolean {
  const [dev, group, portText, ttlText, loopText, ...extra] = tokens(rest, WHITESPACE);
  if (dev === undefined) {
    report(ctx, 'warning', 'HACF_NO_VALUE', 'mcast line has no arguments; ignored');
    return true;
  }
  if (group === undefined) return mediaError(ctx, `mcast [${dev}] missing mcast address`);
  const addr = parseInetAddr(group);
  if (addr === undefined || addr >>> 28 !== 0xe) {
    return mediaError(ctx, `mcast [${dev}] bad addr [${group}]: the group must be a class-D address (224.0.0.0 - 239.255.255.255)`);
  }
  if (portText === undefined) return mediaError(ctx, `mcast [${dev}] missing port`);
  // The plugin stores atoi() results in u_short / u_char, so values wrap.
  const port = wrapped(ctx, 'port', portText, 0xffff);
  if (port <= 0) return mediaError(ctx, `mcast [${dev}] bad port [${port}]: the port must be 1-65535`);
  if (ttlText === undefined) return mediaError(ctx, `mcast [${dev}] missing ttl`);
  const ttl = wrapped(ctx, 'ttl', ttlText, 0xff);
  if (ttl > 4) return mediaError(ctx, `mcast [${dev}] bad ttl [${ttl}]: the ttl must be 0-4`);
  if (loopText === undefined) return mediaError(ctx, `mcast [${dev}] missing loop`);
  const loop = wrapped(ctx, 'loop', loopText, 0xff);
  if (loop > 1) return mediaError(ctx, `mcast [${dev}] bad loop [${loop}]: loop must be 0 or 1`);
  extraArgs(ctx, 'mcast', extra);
  return addMedium(ctx, {
    kind: 'mcast', iface: dev, group: dottedQuad(addr), port, ttl, loop: loop === 1, line: ctx.line,
  });
}

/** atoi stored in an unsigned C type of `mask` bits, with a warning when that changes the number. */
function wrapped(ctx: ParseContext, what: string, text: string, mask: number): number {
  const n = atoi(text);
  const v = n & mask;
  laxNumber(ctx, `mcast ${what}`, text, n);
  if (v !== n) {
    report(ctx, 'warning', 'HACF_LAX_NUMBER', `mcast ${what} [${text}] does not fit; heartbeat reads it as ${v}`);
  }
  return v;
}

/** `serial <device>`: absolute path; the baud is latched by the first serial medium. */
export function serial(device: string, ctx: ParseContext): boolean {
  if (!device.startsWith('/')) {
    return mediaError(ctx, `Serial port not full pathname [${device}] in config file: use e.g. /dev/ttyS0`);
  }
  ctx.serialBaud ??= serialBaudNow(ctx);
  return addMedium(ctx, { kind: 'serial', device, baud: ctx.serialBaud, line: ctx.line });
}

function serialBaudNow(ctx: ParseContext): number {
  const written = ctx.cfg.raw['baud'];
  const n = written === undefined ? 0 : atoi(written);
  return BAUD_RATES.includes(n) ? n : 19200;
}

/** `ping <host>`: each host is a ping node. */
export function ping(host: string, ctx: ParseContext): boolean {
  const name = asciiLower(host);
  if (!addMedium(ctx, { kind: 'ping', host: name, line: ctx.line })) return false;
  ctx.pingNodes.push(name);
  return true;
}

/** `ping_group <name> <host> …` (whole line): one ping node named after the group. */
export function pingGroup(rest: string, ctx: ParseContext): boolean {
  const [name, ...hosts] = tokens(rest, WHITESPACE);
  if (name === undefined || hosts.length === 0) {
    return mediaError(ctx, 'ping_group needs a group name and at least one host: ping_group <name> <host> [<host> …]');
  }
  const group = asciiLower(name);
  if (!addMedium(ctx, { kind: 'ping_group', group, hosts, line: ctx.line })) return false;
  ctx.pingNodes.push(group);
  return true;
}

/** ping6 / hbaping (per token) and ucast6 / mcast6 (whole line): recorded, counted as media, warned about. */
export function unimplementedMedium(directive: string, minArgs: number, usage: string) {
  return (value: string, ctx: ParseContext): boolean => {
    if (tokens(value, WHITESPACE).length < minArgs) {
      return mediaError(ctx, `${directive}: missing arguments: use ${usage}`);
    }
    if (!addMedium(ctx, undefined)) return false;
    unimplemented(ctx, directive, value.trimEnd(), 'this medium will not be opened');
    return true;
  };
}

/** inet_addr(3) syntax: 1 to 4 parts, each decimal, 0-octal or 0x-hex; undefined if invalid. */
export function parseInetAddr(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length > 4) return undefined;
  const nums: number[] = [];
  for (const p of parts) {
    let n: number;
    if (/^0[xX][0-9a-fA-F]+$/.test(p)) n = parseInt(p.slice(2), 16);
    else if (/^0[0-7]*$/.test(p)) n = parseInt(p, 8);
    else if (/^[1-9]\d*$/.test(p)) n = parseInt(p, 10);
    else return undefined;
    nums.push(n);
  }
  const last = nums.pop() ?? 0;
  if (nums.some((n) => n > 255)) return undefined;
  if (last >= 2 ** (8 * (4 - nums.length))) return undefined;
  let addr = 0;
  nums.forEach((n, i) => { addr += n * 2 ** (8 * (3 - i)); });
  return addr + last;
}

function dottedQuad(addr: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(addr / 2 ** s) % 256).join('.');
}
