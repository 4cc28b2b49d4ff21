/**
 * start/stop/status of resource.d/IPaddr and IPaddr2 without the shell:
 * the rules of resource.d/hb-ipaddr.sh (hb_ipaddr_status/_resolve/_start/
 * _stop), step by step, over a kernel interface (rtnetlink in the daemon,
 * a table in the unit tests). Same log texts, same exit codes, same stdout
 * line (hb_finish). A kernel call that fails throws IpKernelError: the
 * caller then runs the script itself, which reports the failure its way.
 */
import { HbError, RESOURCE_ERRORS } from '../util/errors.js';
import { defaultBroadcast, ipInNet, type IpMode, type IpSpec, parseIpSpec } from './inprocess-ip-args.js';

/** An IPv4 address as `ip -4 -o addr show` lists it. */
export interface AddrRow { dev: string; ip: string; bits: number; label: string }
/** A connected route of table main (no gateway, not the default route), in the kernel's order. */
export interface RouteRow { net: string; bits: number; dev: string }

/** What the rules need from the kernel; every method throws IpKernelError on failure. */
export interface IpKernel {
  addrs(): AddrRow[];
  routes(): RouteRow[];
  linkExists(dev: string): boolean;
  addrAdd(dev: string, ip: string, bits: number, brd: string, label: string): void;
  addrDel(dev: string, ip: string, bits: number): void;
  /** `ip link set dev DEV up`, whose failure the script ignores. */
  linkUp(dev: string): void;
}

export class IpKernelError extends HbError {
  constructor(what: string, detail: string) {
    super(RESOURCE_ERRORS.IPADDR_KERNEL, `${what}: ${detail}`);
  }
}

export type ScriptLogLevel = 'info' | 'warn' | 'err';

export interface IpOpContext {
  mode: IpMode;
  kernel: IpKernel;
  /** hb_log: one line in the script's layout. */
  log: (level: ScriptLogLevel, text: string) => void;
  /** hb_send_arp: called after a successful add on a non-loopback interface. */
  sendArp: (dev: string, ip: string) => void;
}

const OK = 0, GENERIC = 1, ARGS = 2, CONFIGURED = 6, NOT_RUNNING = 7;

const FINISH_LINES: Record<number, string> = {
  1: 'ERROR:  Generic error', 2: 'ERROR:  Illegal argument', 6: 'ERROR:  Program is not configured', 7: 'INFO:  Resource is stopped',
};

/** hb_finish: logs the result and gives the one stdout line. */
function finish(c: IpOpContext, op: string, rc: number): { code: number; stdout: string } {
  const line = rc === OK ? (op === 'status' ? 'INFO:  Running OK' : 'INFO:  Success') : (FINISH_LINES[rc] ?? `ERROR:  Unknown error: ${rc}`);
  if (line.startsWith('ERROR')) c.log('err', line.slice('ERROR:  '.length));
  else c.log('info', line.slice('INFO:  '.length));
  return { code: rc, stdout: `${line}\n` };
}

/** Working state of one run: the spec with dev/bits filled in as the script's globals are. */
interface Run { c: IpOpContext; s: IpSpec }

/** hb_ipaddr_resolve */
function resolve(r: Run): boolean {
  const { s } = r;
  if (s.dev !== '' && s.bits !== undefined) return true;
  let found: RouteRow | undefined;
  const routes = r.c.kernel.routes();
  if (s.dev !== '') found = routes.find((x) => x.dev === s.dev && ipInNet(s.ip, x.net, x.bits));
  else for (const x of routes) if (x.bits > (found?.bits ?? -1) && ipInNet(s.ip, x.net, x.bits)) found = x;
  if (found === undefined) return false;
  if (s.dev === '') s.dev = found.dev;
  s.bits ??= found.bits;
  return true;
}

function where(r: Run): AddrRow[] {
  return r.c.kernel.addrs().filter((a) => a.ip === r.s.ip);
}

/** hb_ipaddr_status */
function status(r: Run): number {
  const at = where(r);
  if (at.length === 0) return NOT_RUNNING;
  if (r.c.mode === 'IPaddr') {
    if (r.s.dev === '') return OK;
  } else if (!resolve(r)) return NOT_RUNNING;
  const { s } = r;
  if (at.some((a) => a.dev === s.dev && (r.c.mode === 'IPaddr' || a.bits === s.bits))) return OK;
  const places = at.map((a) => `${a.label}/${a.bits} on ${a.dev}`).join(', ');
  r.c.log('err', `${s.ip} is configured as ${places}, not ${s.bits !== undefined ? `/${s.bits} ` : ''}on ${s.dev}`);
  return GENERIC;
}

/** hb_ip_free_label */
function freeLabel(r: Run): string | undefined {
  const used = new Set(r.c.kernel.addrs().filter((a) => a.dev === r.s.dev).map((a) => a.label));
  for (let n = 0; n < 1024; n++) if (!used.has(`${r.s.dev}:${n}`)) return `${r.s.dev}:${n}`;
  return undefined;
}

/** The label and broadcast `ip addr add` gets, or the exit code when there is none to give. */
function labelAndBroadcast(r: Run, bits: number): { label: string; brd: string } | number {
  const { s, c } = r;
  let label = s.label;
  let brd = s.brd;
  if (c.mode === 'IPaddr') {
    if (label !== '') c.log('info', `IPaddr picks its own alias label; ignoring ':${label}' (use IPaddr2 for a fixed label)`);
    const free = freeLabel(r);
    if (free === undefined) {
      c.log('err', `No free alias label on ${s.dev}`);
      return GENERIC;
    }
    label = free;
    if (brd === '') brd = defaultBroadcast(s.ip, bits);
  } else if (label !== '') label = `${s.dev}:${label}`;
  if (label.length > 15) {
    c.log('err', `Interface label ${label} is longer than the kernel's 15 characters`);
    return CONFIGURED;
  }
  return { label, brd };
}

/** hb_ipaddr_start */
function start(r: Run): number {
  const { s, c } = r;
  const st = status(r);
  if (st === OK) {
    c.log('info', `${s.ip} is already configured (nothing to do)`);
    return OK;
  }
  if (st === GENERIC) return GENERIC;
  if (!resolve(r) || s.bits === undefined) {
    c.log('err', `No interface found for ${s.ip}: no connected route contains it; give one explicitly, e.g. ${s.ip}/24/eth0`);
    return GENERIC;
  }
  if (!c.kernel.linkExists(s.dev)) {
    c.log('err', `Interface ${s.dev} does not exist (resource ${s.ip})`);
    return CONFIGURED;
  }
  const lb = labelAndBroadcast(r, s.bits);
  if (typeof lb === 'number') return lb;
  const brdArgs = lb.brd !== '' ? `brd ${lb.brd}` : '';
  const labelArgs = lb.label !== '' ? `label ${lb.label}` : '';
  c.log('info', `ip -4 addr add ${s.ip}/${s.bits} ${brdArgs} dev ${s.dev} ${labelArgs}`);
  c.kernel.addrAdd(s.dev, s.ip, s.bits, lb.brd, lb.label);
  c.kernel.linkUp(s.dev);
  if (!s.dev.startsWith('lo')) c.sendArp(s.dev, s.ip);
  return status(r);
}

/** hb_ipaddr_stop (the caller has stopped any ARP burst). */
function stop(r: Run): number {
  const { s, c } = r;
  for (const a of where(r)) {
    if (s.dev !== '' && a.dev !== s.dev) {
      c.log('warn', `${s.ip} is also on ${a.dev}; leaving it (this resource manages ${s.dev})`);
      continue;
    }
    c.log('info', `ip -4 addr del ${s.ip}/${a.bits} dev ${a.dev} (${a.label})`);
    c.kernel.addrDel(a.dev, s.ip, a.bits);
  }
  return OK;
}

/**
 * hb_ipaddr_main for start/stop/status: the exit code and stdout the
 * script would give. Throws IpKernelError when the kernel refuses a call.
 */
export function runIpOp(c: IpOpContext, op: 'start' | 'stop' | 'status', spec: string): { code: number; stdout: string } {
  const parsed = parseIpSpec(spec);
  if ('error' in parsed) {
    c.log('err', parsed.error);
    return finish(c, op, ARGS);
  }
  const r: Run = { c, s: parsed };
  const rc = op === 'start' ? start(r) : op === 'stop' ? stop(r) : status(r);
  return finish(c, op, rc);
}
