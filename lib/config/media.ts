/**
 * Media directives of ha.cf (spec 7): argument checks of heartbeat's HBcomm
 * plugins, minus the ones that need the running system (interface exists,
 * host resolves), which belong to the media layer when it opens them.
 */
import { asciiLower, atoi, tokens, WHITESPACE } from './text.js';
import { currentUdpPort, laxNumber, MAX_MEDIA, report, unimplemented, type ParseContext } from './state.js';
import type { MediaLine } from './types.js';
import { formatIpv6, isLinkLocal6, mcast6Refusal, parseIpv6, ucast6Refusal } from '../util/inet6.js';

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
function wrapped(ctx: ParseContext, what: string, text: string, mask: number, directive = 'mcast'): number {
  const n = atoi(text);
  const v = n & mask;
  laxNumber(ctx, `${directive} ${what}`, text, n);
  if (v !== n) {
    report(ctx, 'warning', 'HACF_LAX_NUMBER', `${directive} ${what} [${text}] does not fit; heartbeat reads it as ${v}`);
  }
  return v;
}

/**
 * `ucast6 <dev> <peer>` (whole line), checked like the ucast6 plugin: a
 * numeric IPv6 peer (no host names), not multicast, unspecified or
 * loopback; `%scope` only on a link-local peer, naming the device. The port
 * is the udpport in force at the first ucast6 line, as the plugin latches it.
 */
export function ucast6(rest: string, ctx: ParseContext): boolean {
  const [dev, target, ...extra] = tokens(rest, WHITESPACE);
  if (dev === undefined) return mediaError(ctx, 'ucast6 statement without device: use ucast6 <interface> <peer IPv6 address>');
  if (target === undefined) return mediaError(ctx, `ucast6 [${dev}] missing ucast6 address: use ucast6 <interface> <peer IPv6 address>`);
  const pct = target.indexOf('%');
  const addrText = pct < 0 ? target : target.slice(0, pct);
  const scope = pct < 0 ? undefined : target.slice(pct + 1);
  const bytes = parseIpv6(addrText);
  if (bytes === undefined) return mediaError(ctx, `ucast6 [${dev}] bad addr [${target}]: not a numeric IPv6 address (host names are not accepted)`);
  const refusal = ucast6Refusal(bytes);
  if (refusal !== undefined) return mediaError(ctx, `ucast6 [${dev}] bad addr [${target}]: ${refusal}`);
  if (scope !== undefined) {
    if (!isLinkLocal6(bytes)) return mediaError(ctx, `ucast6 [${dev}] bad addr [${target}]: a %scope is only meaningful on a link-local (fe80::/10) address`);
    if (scope !== dev && !/^[1-9]\d*$/.test(scope)) {
      return mediaError(ctx, `ucast6 [${dev}] bad addr [${target}]: the scope must be the device ${dev} (or its index)`);
    }
  }
  extraArgs(ctx, 'ucast6', extra);
  ctx.ucast6Port ??= currentUdpPort(ctx);
  const line: MediaLine = { kind: 'ucast6', iface: dev, peer: formatIpv6(bytes), port: ctx.ucast6Port, line: ctx.line };
  return addMedium(ctx, scope === undefined ? line : { ...line, scope });
}

/** `mcast6 <dev> <group> <port> <hops> <loop>` (whole line), checked like the mcast6 plugin. */
export function mcast6(rest: string, ctx: ParseContext): boolean {
  const [dev, group, portText, hopsText, loopText, ...extra] = tokens(rest, WHITESPACE);
  const usage = 'use mcast6 <interface> <group> <port> <hops 0-4> <loop 0|1>';
  if (dev === undefined) return mediaError(ctx, `mcast6 statement without device: ${usage}`);
  if (group === undefined) return mediaError(ctx, `mcast6 [${dev}] missing mcast6 address: ${usage}`);
  const bytes = parseIpv6(group);
  const refusal = bytes === undefined ? 'not a numeric IPv6 address' : mcast6Refusal(bytes);
  if (bytes === undefined || refusal !== undefined) return mediaError(ctx, `mcast6 [${dev}] bad addr [${group}]: ${refusal}`);
  if (portText === undefined) return mediaError(ctx, `mcast6 [${dev}] missing port: ${usage}`);
  const port = /^\d+$/.test(portText) ? Number(portText) : ctx.services.get(portText);
  if (port === undefined || port < 1 || port > 65535) {
    return mediaError(ctx, `mcast6 [${dev}] bad port [${portText}]: the port must be 1-65535 or a udp service name`);
  }
  if (hopsText === undefined) return mediaError(ctx, `mcast6 [${dev}] missing hops: ${usage}`);
  const hops = wrapped(ctx, 'hops', hopsText, 0xff, 'mcast6');
  if (hops > 4) return mediaError(ctx, `mcast6 [${dev}] bad hops [${hops}]: the hops must be 0-4`);
  if (loopText === undefined) return mediaError(ctx, `mcast6 [${dev}] missing loop: ${usage}`);
  const loop = wrapped(ctx, 'loop', loopText, 0xff, 'mcast6');
  if (loop > 1) return mediaError(ctx, `mcast6 [${dev}] bad loop [${loop}]: loop must be 0 or 1`);
  extraArgs(ctx, 'mcast6', extra);
  return addMedium(ctx, { kind: 'mcast6', iface: dev, group: formatIpv6(bytes), port, hops, loop: loop === 1, line: ctx.line });
}

/** `ping6 <addr>`: each numeric IPv6 address is a ping node (the plugin takes no host names). */
export function ping6(host: string, ctx: ParseContext): boolean {
  const bytes = parseIpv6(host);
  if (bytes === undefined) return mediaError(ctx, `ping6: bad address [${host}]: use ping6 <numeric IPv6 address>`);
  const name = asciiLower(host);
  if (!addMedium(ctx, { kind: 'ping6', host: name, line: ctx.line })) return false;
  ctx.pingNodes.push(name);
  return true;
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

/** hbaping (per token): recorded, counted as a medium, warned about. */
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
