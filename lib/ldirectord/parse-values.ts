/**
 * Value grammar of ldirectord.cf: addresses, ports, `real=` and `fallback=`
 * arguments. Each function returns a value or a message; the line loop in
 * parse.ts attaches file and line.
 */
import { readFileSync } from 'node:fs';
import type { Fallback, Forward, RealServer } from './types.js';

export type Result<T> = { ok: true; value: T } | { ok: false; message: string };
const ok = <T>(value: T): Result<T> => ({ ok: true, value });
const err = <T>(message: string): Result<T> => ({ ok: false, message });

/** Resolves a port given by name (`http`) for a protocol; numbers pass through. */
export type PortLookup = (name: string, proto: 'tcp' | 'udp') => number | undefined;

/** Reads /etc/services once per lookup object (no module-level cache). */
export function etcServicesLookup(path = '/etc/services'): PortLookup {
  let table: Map<string, number> | undefined;
  const load = (): Map<string, number> => {
    const m = new Map<string, number>();
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      return m;
    }
    for (const raw of text.split('\n')) {
      const line = raw.replace(/#.*/, '').trim();
      const f = line.split(/\s+/);
      const pp = /^(\d+)\/(tcp|udp)$/.exec(f[1] ?? '');
      if (!f[0] || !pp) continue;
      for (const name of [f[0], ...f.slice(2)]) {
        const key = `${name}/${pp[2]}`;
        if (!m.has(key)) m.set(key, Number(pp[1]));
      }
    }
    return m;
  };
  return (name, proto) => {
    table ??= load();
    return table.get(`${name}/${proto}`);
  };
}

export function isIPv4(s: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  return m !== null && m.slice(1).every((o) => Number(o) <= 255);
}

export function ipToInt(s: string): number {
  return s.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}
export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((sh) => Math.floor(n / 2 ** sh) % 256).join('.');
}

const HOST_RE = /^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/;

export function parseHost(s: string): Result<string> {
  if (isIPv4(s)) return ok(s);
  if (/^\d+(\.\d+)*$/.test(s)) return err(`invalid IPv4 address "${s}"`);
  if (s.startsWith('[')) return err(`IPv6 address "${s}" is not supported by heartbeat-ts ldirectord`);
  if (HOST_RE.test(s)) return ok(s);
  return err(`invalid host "${s}"`);
}

export function parsePort(s: string, proto: 'tcp' | 'udp', lookup: PortLookup): Result<number> {
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    return n >= 0 && n <= 65535 ? ok(n) : err(`port ${s} is out of range 0..65535`);
  }
  const n = lookup(s, proto);
  return n === undefined ? err(`unknown service name "${s}" for port`) : ok(n);
}

/** `host:port` of a virtual service (port may be a service name). */
export function parseHostPort(
  s: string,
  proto: 'tcp' | 'udp',
  lookup: PortLookup,
): Result<{ host: string; port: number }> {
  const m = /^([^:\s]+):([0-9A-Za-z_-]+)$/.exec(s);
  if (!m) return err(`expected ip_address:port, got "${s}"`);
  const host = parseHost(m[1] ?? '');
  if (!host.ok) return host;
  const port = parsePort(m[2] ?? '', proto, lookup);
  if (!port.ok) return port;
  return ok({ host: host.value, port: port.value });
}

export function parseForward(s: string): Result<Forward> {
  return s === 'gate' || s === 'masq' || s === 'ipip' ? ok(s) : err(`forward method must be gate, masq or ipip, got "${s}"`);
}

/**
 * `ip[->ip2][:port] gate|masq|ipip [weight] ["request", "receive"]`.
 * A range yields one real server per address.
 */
export function parseReal(
  text: string,
  proto: 'tcp' | 'udp',
  lookup: PortLookup,
  line: number,
): Result<RealServer[]> {
  const tm = /^(\S+)(?:\s+(.*))?$/.exec(text.trim());
  if (!tm) return err('real server needs an address and a forward method');
  let addrPart = tm[1] ?? '';
  let port = 0;
  const pm = /^(.*):([0-9A-Za-z_-]+)$/.exec(addrPart);
  if (pm) {
    const p = parsePort(pm[2] ?? '', proto, lookup);
    if (!p.ok) return err(`invalid port for real server: ${p.message}`);
    port = p.value;
    addrPart = pm[1] ?? '';
  }
  const [firstText, lastText, extra] = addrPart.split('->');
  if (extra !== undefined) return err(`invalid address for real server (wrong format): "${addrPart}"`);
  const first = parseHost(firstText ?? '');
  if (!first.ok) return err(`invalid address for real server: ${first.message}`);
  const rest = (tm[2] ?? '').trim();
  const fm = /^(\S+)(.*)$/.exec(rest);
  if (!fm) return err('real server needs a forward method: gate, masq or ipip');
  const fwd = parseForward(fm[1] ?? '');
  if (!fwd.ok) return fwd;
  let tail = fm[2] ?? '';
  let weight = 1;
  const wm = /^\s+(\d+)(.*)$/.exec(tail);
  if (wm) {
    weight = Number(wm[1]);
    if (weight > 65535) return err(`weight ${wm[1]} is out of range 0..65535`);
    tail = wm[2] ?? '';
  }
  let request: string | undefined;
  let receive: string | undefined;
  const rm = /^\s+"([^"]*)"(?:,\s*|\s+)"([^"]*)"(.*)$/.exec(tail);
  if (rm) {
    request = normaliseRequest(rm[1] ?? '');
    receive = rm[2] ?? '';
    tail = rm[3] ?? '';
  }
  if (/\S/.test(tail)) return err(`invalid real server line, around "${tail.trim()}"`);
  const addrs: string[] = [];
  if (lastText !== undefined) {
    const last = parseHost(lastText);
    if (!last.ok) return err(`invalid end address for real server range: ${last.message}`);
    if (!isIPv4(first.value) || !isIPv4(last.value)) return err('a real server range needs two IPv4 addresses');
    const a = ipToInt(first.value);
    const b = ipToInt(last.value);
    if (a > b) return err(`invalid range ${first.value}->${last.value}: the first address must not be above the last`);
    if (b - a > 1023) return err(`range ${first.value}->${last.value} has more than 1024 addresses`);
    for (let i = a; i <= b; i++) addrs.push(intToIp(i));
  } else {
    addrs.push(first.value);
  }
  return ok(addrs.map((address) => {
    const r: RealServer = { address, port, forward: fwd.value, weight, line };
    if (request !== undefined) r.request = request;
    if (receive !== undefined) r.receive = receive;
    return r;
  }));
}

/** `ip[:port] [gate|masq|ipip]`; the forward method defaults to gate. */
export function parseFallback(text: string, proto: 'tcp' | 'udp', lookup: PortLookup, line: number): Result<Fallback> {
  const m = /^(\S+?)(?::([0-9A-Za-z_-]+))?(?:\s+(\S+))?\s*$/.exec(text.trim());
  if (!m) return err(`invalid fallback server: "${text.trim()}"`);
  const host = parseHost(m[1] ?? '');
  if (!host.ok) return err(`invalid fallback server: ${host.message}`);
  let port: number | undefined;
  if (m[2] !== undefined) {
    const p = parsePort(m[2], proto, lookup);
    if (!p.ok) return err(`invalid port for fallback server: ${p.message}`);
    port = p.value;
  }
  let forward: Forward = 'gate';
  if (m[3] !== undefined) {
    const f = parseForward(m[3]);
    if (!f.ok) return f;
    forward = f.value;
  }
  return ok({ address: host.value, port, forward, line });
}

/** Requests are paths: ldirectord prefixes a missing leading slash. */
export function normaliseRequest(s: string): string {
  return s.startsWith('/') || /^[a-z]+:\/\//i.test(s) ? s : `/${s}`;
}

/** Strips one pair of surrounding double quotes. */
export function unquote(s: string): string {
  const t = s.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1) : t;
}

/** Drops a trailing `# comment` that is outside double quotes. */
export function stripComment(line: string): string {
  let inQuote = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"') inQuote = !inQuote;
    else if (c === '#' && !inQuote) return line.slice(0, i);
  }
  return line;
}

export function parseNetmask(s: string): Result<string> {
  if (!isIPv4(s)) return err(`invalid netmask "${s}": dotted quad notation is required`);
  const n = ipToInt(s);
  const inv = (2 ** 32 - 1 - n);
  if ((inv & (inv + 1)) !== 0) return err(`invalid netmask "${s}": not a contiguous mask`);
  return ok(s);
}
