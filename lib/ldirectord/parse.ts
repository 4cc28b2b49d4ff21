/**
 * ldirectord.cf parser. Global directives start in column 0; a `virtual=`
 * line opens a block whose directives are indented (a tab or spaces). Every
 * bad line yields a problem with file and line; parsing goes on so that one
 * run of `ldirectord -t` reports all of them.
 */
import type { ConfigProblem, ParseResult } from '../config/types.js';
import {
  etcServicesLookup, normaliseRequest, parseFallback, parseHostPort, parseNetmask, parseReal,
  stripComment, unquote, type PortLookup,
} from './parse-values.js';
import {
  DAEMON_STATUS, SERVICE_NAMES, serviceForPort, virtualId,
  type CheckType, type LdConfig, type ServiceName, type VirtualService,
} from './types.js';

/** Schedulers the IPVS kernel code ships; anything else is a typo. */
export const KNOWN_SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh', 'twos'];

export interface ParseOptions {
  portLookup?: PortLookup;
  /** For the ftp/sip login defaults (`ldirectord@<host>`). */
  hostname?: string;
}

export function defaultConfig(file: string): LdConfig {
  return {
    file, checkinterval: 10, checktimeout: -1, negotiatetimeout: -1, checkcount: 1, failurecount: 1,
    autoreload: false, logfile: '/var/log/ldirectord.log', emailalert: '', emailalertfreq: 0,
    emailalertstatus: DAEMON_STATUS.all, quiescent: false, readdquiescent: false, cleanstop: true,
    supervised: false, fork: false, dataplane: 'auto', dataplaneLine: 0, execute: [], virtuals: [],
  };
}

type Ctx = {
  file: string;
  problems: ConfigProblem[];
  lookup: PortLookup;
  hostname: string;
  /** Virtual blocks with an explicit service= (the port default does not apply). */
  serviceSet: WeakSet<VirtualService>;
};

function problem(ctx: Ctx, line: number, code: string, message: string, severity: 'error' | 'warning' = 'error'): void {
  ctx.problems.push({ file: ctx.file, line, severity, code, message });
}

const positiveInt = (s: string): number | undefined => (/^\d+$/.test(s) && Number(s) > 0 ? Number(s) : undefined);
const yesNo = (s: string): boolean | undefined => (s === 'yes' ? true : s === 'no' ? false : undefined);

export function parseEmailAlertStatus(s: string): number | string {
  const parts = s.split(/\s*,\s*/).filter(Boolean);
  if (parts.includes('none')) return parts.length === 1 ? 0 : '"none" cannot be combined with other states';
  let v = 0;
  for (const p of parts) {
    const bit = (DAEMON_STATUS as Record<string, number>)[p];
    if (bit === undefined) return `invalid email alert status "${p}"`;
    v |= bit;
  }
  return v;
}

export function parseLdirectordConf(text: string, file: string, opts: ParseOptions = {}): ParseResult<LdConfig> {
  const ctx: Ctx = { file, problems: [], lookup: opts.portLookup ?? etcServicesLookup(), hostname: opts.hostname ?? 'localhost', serviceSet: new WeakSet() };
  const cfg = defaultConfig(file);
  const lines = text.split(/\r?\n/);
  let current: VirtualService | undefined;
  let currentBad = false;
  const seen = new Map<string, number>();
  const finish = (): void => {
    if (current && !currentBad) finishVirtual(ctx, cfg, current, seen);
    current = undefined;
    currentBad = false;
  };
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = lines[i] ?? '';
    if (/^\s*(#.*)?$/.test(raw)) continue;
    const body = stripComment(raw).replace(/\s+$/, '');
    if (body.trim() === '') continue;
    const indented = /^\s/.test(body);
    const m = /^([A-Za-z_0-9-]+)\s*(?:=\s*(.*))?$/.exec(body.trim());
    if (!m) {
      problem(ctx, lineNo, 'LDCF_SYNTAX', `cannot parse line "${body.trim()}": expected name=value`);
      continue;
    }
    const name = (m[1] ?? '').toLowerCase();
    const value = (m[2] ?? '').trim();
    if (indented) {
      if (!current && !currentBad) {
        problem(ctx, lineNo, name === 'real' ? 'LDCF_REAL_OUTSIDE_VIRTUAL' : 'LDCF_OUTSIDE_VIRTUAL',
          `"${name}=" is indented but no virtual= block is open`);
        continue;
      }
      if (current) virtualDirective(ctx, cfg, current, name, value, m[2] !== undefined, lineNo);
      continue;
    }
    finish();
    if (name === 'virtual') {
      const v = startVirtual(ctx, value, lineNo);
      if (v) current = v;
      else currentBad = true;
      continue;
    }
    globalDirective(ctx, cfg, name, value, m[2] !== undefined, lineNo);
  }
  finish();
  const errors = ctx.problems.some((p) => p.severity === 'error');
  return { value: errors ? undefined : cfg, problems: ctx.problems };
}

function startVirtual(ctx: Ctx, value: string, line: number): VirtualService | undefined {
  const base = (protocol: VirtualService['protocol'], port: number): VirtualService => ({
    protocol, port, line, reals: [], scheduler: 'wrr', schedulerLine: line, ops: false, service: 'none',
    checktype: 'negotiate', numConnects: 0, checkcommand: '/bin/true', request: '/', receive: '',
    httpmethod: 'GET', login: '', passwd: '', database: '', secret: '',
  });
  if (/^\d+$/.test(value)) {
    const mark = Number(value);
    if (mark <= 0 || mark > 0xffffffff) {
      problem(ctx, line, 'LDCF_BAD_VIRTUAL', `invalid firewall mark "${value}" for virtual server`);
      return undefined;
    }
    const v = base('fwm', 0);
    v.fwmark = mark;
    return v;
  }
  const portText = /:(\S+)$/.exec(value)?.[1];
  const proto = portText === '53' || portText === 'domain' ? 'udp' : 'tcp';
  const hp = parseHostPort(value, proto, ctx.lookup);
  if (!hp.ok) {
    problem(ctx, line, 'LDCF_BAD_VIRTUAL', `invalid address for virtual server: ${hp.message}`);
    return undefined;
  }
  const v = base(proto, hp.value.port);
  v.address = hp.value.host;
  return v;
}

function finishVirtual(ctx: Ctx, cfg: LdConfig, v: VirtualService, seen: Map<string, number>): void {
  if (!ctx.serviceSet.has(v) && v.protocol !== 'fwm') v.service = serviceForPort(v.port);
  if (v.service === 'ftp' && v.login === '') v.login = 'anonymous';
  if (v.service === 'ftp' && v.passwd === '') v.passwd = `ldirectord@${ctx.hostname}`;
  if (v.service === 'sip' && v.login === '') v.login = `ldirectord@${ctx.hostname}`;
  const id = virtualId(v);
  const prev = seen.get(id);
  if (prev !== undefined) {
    problem(ctx, v.line, 'LDCF_DUPLICATE_VIRTUAL', `duplicate virtual server ${id} (first defined at line ${prev})`);
    return;
  }
  seen.set(id, v.line);
  if (v.reals.length === 0) problem(ctx, v.line, 'LDCF_NO_REALS', `virtual server ${id} has no real= servers`, 'warning');
  cfg.virtuals.push(v);
}

const NEEDS_QUOTES = new Set(['request', 'receive', 'login', 'passwd', 'database', 'secret']);

type Bad = (msg: string, code?: string) => void;

/** Real servers, what is sent and expected, how checks run; 'unhandled' for other directives. */
function checkDirective(ctx: Ctx, cfg: LdConfig, v: VirtualService, name: string, value: string, line: number, bad: Bad): void | 'unhandled' {
  const proto = v.protocol === 'udp' ? 'udp' : 'tcp';
  switch (name) {
    case 'real': {
      const r = parseReal(value, proto, ctx.lookup, line);
      if (!r.ok) return bad(r.message, 'LDCF_BAD_REAL');
      v.reals.push(...r.value);
      return;
    }
    case 'real6': case 'fallback6': case 'virtual6':
      return bad(`${name}: IPv6 services are not supported by heartbeat-ts ldirectord`, 'LDCF_UNSUPPORTED');
    case 'request': {
      const s = unquote(value);
      if (s === '') return bad('no request string specified');
      v.request = normaliseRequest(s);
      return;
    }
    case 'receive': {
      const s = unquote(value);
      if (s === '') return bad('invalid receive string: empty');
      try { new RegExp(s); } catch (e) { return bad(`receive is not a valid regular expression: ${(e as Error).message}`); }
      v.receive = s;
      return;
    }
    case 'checktype': {
      if (/^\d+$/.test(value)) { v.checktype = 'combined'; v.numConnects = Number(value); return; }
      const ok: CheckType[] = ['connect', 'negotiate', 'ping', 'off', 'on', 'external', 'external-perl'];
      if (!ok.includes(value as CheckType)) return bad('checktype must be "connect", "negotiate", "on", "off", "ping", "external", "external-perl" or a positive number');
      v.checktype = value as CheckType;
      return;
    }
    case 'checkcommand': { const s = unquote(value); if (!s) return bad('invalid check command'); v.checkcommand = s; return; }
    case 'checktimeout': case 'negotiatetimeout': case 'checkinterval': case 'checkcount': case 'failurecount': {
      const n = positiveInt(value);
      if (n === undefined) return bad(`invalid ${name} "${value}": a positive number of ${name.endsWith('count') ? 'checks' : 'seconds'} is required`);
      v[name] = n;
      if (name === 'checkcount') problem(ctx, line, 'LDCF_DEPRECATED', "checkcount is deprecated; see 'failurecount'", 'warning');
      if (name === 'checkinterval' && !cfg.fork) problem(ctx, line, 'LDCF_IGNORED', 'checkinterval in a virtual service is used only with fork=yes (heartbeat-ts honours it anyway)', 'warning');
      return;
    }
    case 'connecttimeout': return bad('connecttimeout directive deprecated in favour of negotiatetimeout');
    case 'checkport': {
      const n = positiveInt(value);
      if (n === undefined || n > 65535) return bad('checkport must be in range 1..65535');
      v.checkport = n;
      return;
    }
    case 'login': v.login = unquote(value); if (!v.login) bad('invalid login string'); return;
    case 'passwd': v.passwd = unquote(value); if (!v.passwd) bad('invalid password'); return;
    case 'database': v.database = unquote(value); if (!v.database) bad('invalid database'); return;
    case 'secret': v.secret = unquote(value); if (!v.secret) bad('invalid secret'); return;
    default:
      return 'unhandled';
  }
}

function virtualDirective(ctx: Ctx, cfg: LdConfig, v: VirtualService, name: string, rawValue: string, hasEq: boolean, line: number): void {
  const bad = (msg: string, code = 'LDCF_BAD_VALUE'): void => problem(ctx, line, code, msg);
  if (!hasEq) return bad(`"${name}" needs "=value"`, 'LDCF_SYNTAX');
  if (NEEDS_QUOTES.has(name) && !/^".*"$/.test(rawValue)) return bad(`${name} must be a quoted string, e.g. ${name}="…"`);
  const value = rawValue;
  if (checkDirective(ctx, cfg, v, name, value, line, bad) !== 'unhandled') return;
  const proto = v.protocol === 'udp' ? 'udp' : 'tcp';
  switch (name) {
    case 'scheduler':
      if (!/^[a-z]+$/.test(value)) return bad('invalid scheduler, should be only lowercase letters (a-z)', 'LDCF_BAD_SCHEDULER');
      if (!KNOWN_SCHEDULERS.includes(value)) return bad(`unknown scheduler "${value}": expected one of ${KNOWN_SCHEDULERS.join(' ')}`, 'LDCF_BAD_SCHEDULER');
      v.scheduler = value;
      v.schedulerLine = line;
      return;
    case 'persistent':
      if (!/^\d+$/.test(value)) return bad('invalid persistent timeout');
      v.persistent = Number(value);
      return;
    case 'netmask': {
      const nm = parseNetmask(value);
      if (!nm.ok) return bad(nm.message);
      v.netmask = nm.value;
      return;
    }
    case 'protocol':
      if (v.protocol === 'fwm') { if (value !== 'fwm') bad('protocol must be fwm if the virtual service is a fwmark (a number)'); return; }
      if (value !== 'tcp' && value !== 'udp') return bad('protocol must be tcp or udp if the virtual service is an address and port');
      v.protocol = value;
      return;
    case 'ops': { const b = yesNo(value); if (b === undefined) return bad("ops must be 'yes' or 'no'"); v.ops = b; return; }
    case 'service':
      if (!SERVICE_NAMES.includes(value as ServiceName)) return bad(`service must be one of ${SERVICE_NAMES.join(', ')}`);
      v.service = value as ServiceName;
      ctx.serviceSet.add(v);
      return;
    case 'httpmethod': {
      const u = value.toUpperCase();
      if (u !== 'GET' && u !== 'HEAD') return bad('httpmethod must be GET or HEAD');
      v.httpmethod = u;
      return;
    }
    case 'virtualhost': { const s = unquote(value); if (!s) return bad('invalid virtualhost'); v.virtualhost = s; return; }
    case 'fallback': {
      const f = parseFallback(value, proto, ctx.lookup, line);
      if (!f.ok) return bad(f.message);
      v.fallback = f.value;
      return;
    }
    case 'fallbackcommand': { const s = unquote(value); if (!s) return bad('invalid fallback command'); v.fallbackcommand = s; return; }
    case 'quiescent': case 'cleanstop': {
      const b = yesNo(value);
      if (b === undefined) return bad(`${name} must be 'yes' or 'no'`);
      v[name] = b;
      return;
    }
    case 'emailalert': { const s = unquote(value); if (!s) return bad('no email address specified'); v.emailalert = s; return; }
    case 'emailalertfreq': if (!/^\d+$/.test(value)) return bad('invalid email alert frequency'); v.emailalertfreq = Number(value); return;
    case 'emailalertstatus': {
      const st = parseEmailAlertStatus(value);
      if (typeof st === 'string') return bad(st);
      v.emailalertstatus = st;
      return;
    }
    case 'monitorfile': { const s = unquote(value); if (!s) return bad('invalid monitorfile'); v.monitorfile = s; return; }
    case 'smtp': if (!/^[0-9A-Za-z._+-]+$/.test(value)) return bad('invalid SMTP server address'); v.smtp = value; return;
    case 'virtual': return bad('virtual= must start in column 0', 'LDCF_SYNTAX');
    default:
      return bad(`unknown directive "${name}" in a virtual block`, 'LDCF_UNKNOWN_DIRECTIVE');
  }
}

function globalDirective(ctx: Ctx, cfg: LdConfig, name: string, value: string, hasEq: boolean, line: number): void {
  const bad = (msg: string, code = 'LDCF_BAD_VALUE'): void => problem(ctx, line, code, msg);
  if (name === 'supervised' && !hasEq) {
    cfg.supervised = true;
    problem(ctx, line, 'LDCF_DEPRECATED', 'please update your config not to use a bare supervised directive', 'warning');
    return;
  }
  if (!hasEq) return bad(`"${name}" needs "=value"`, 'LDCF_SYNTAX');
  switch (name) {
    case 'real': case 'request': case 'receive': case 'scheduler': case 'checktype': case 'service':
    case 'protocol': case 'persistent': case 'netmask': case 'checkport': case 'virtualhost': case 'login': case 'passwd':
      return bad(`"${name}=" outside a virtual= block (it must follow a virtual= line and be indented)`,
        name === 'real' ? 'LDCF_REAL_OUTSIDE_VIRTUAL' : 'LDCF_OUTSIDE_VIRTUAL');
    case 'virtual6': case 'fallback6':
      return bad(`${name}: IPv6 services are not supported by heartbeat-ts ldirectord`, 'LDCF_UNSUPPORTED');
    case 'checktimeout': case 'negotiatetimeout': case 'checkinterval': case 'checkcount': case 'failurecount': {
      const n = positiveInt(value);
      if (n === undefined) return bad(`invalid ${name} value "${value}": a positive number is required`);
      cfg[name] = n;
      if (name === 'checkcount') problem(ctx, line, 'LDCF_DEPRECATED', "checkcount is deprecated; see 'failurecount'", 'warning');
      return;
    }
    case 'connecttimeout': return bad('connecttimeout directive deprecated in favour of negotiatetimeout');
    case 'timeout': return bad('timeout directive deprecated in favour of checktimeout and negotiatetimeout');
    case 'fallback': {
      const f = parseFallback(value, 'tcp', ctx.lookup, line);
      if (!f.ok) return bad(f.message);
      cfg.fallback = f.value;
      return;
    }
    case 'fallbackcommand': { const s = unquote(value); if (!s) return bad('invalid fallback command'); cfg.fallbackcommand = s; return; }
    case 'autoreload': case 'quiescent': case 'readdquiescent': case 'cleanstop': case 'fork': case 'supervised': {
      const b = yesNo(value);
      if (b === undefined) return bad(`${name} must be 'yes' or 'no'`);
      cfg[name] = b;
      return;
    }
    case 'callback': { const s = unquote(value); if (!s) return bad('invalid callback'); cfg.callback = s; return; }
    case 'logfile': {
      const s = unquote(value);
      if (!s) return bad('logfile needs a path or a syslog facility');
      cfg.logfile = s;
      return;
    }
    case 'execute': cfg.execute.push(unquote(value)); return;
    case 'emailalert': { const s = unquote(value); if (!s) return bad('no email address specified'); cfg.emailalert = s; return; }
    case 'emailalertfreq': if (!/^\d+$/.test(value)) return bad('invalid email alert frequency'); cfg.emailalertfreq = Number(value); return;
    case 'emailalertstatus': {
      const st = parseEmailAlertStatus(value);
      if (typeof st === 'string') return bad(st);
      cfg.emailalertstatus = st;
      return;
    }
    case 'emailalertfrom': if (!value) return bad('no email from address specified'); cfg.emailalertfrom = value; return;
    case 'smtp': if (!/^[0-9A-Za-z._+-]+$/.test(value)) return bad('invalid SMTP server address'); cfg.smtp = value; return;
    case 'maintenancedir': if (!value) return bad('maintenance directory not specified'); cfg.maintenancedir = unquote(value); return;
    case 'dataplane':
      if (value !== 'auto' && value !== 'nftables' && value !== 'ipvs') return bad('dataplane must be auto, nftables or ipvs');
      cfg.dataplane = value;
      cfg.dataplaneLine = line;
      return;
    default:
      return bad(`unknown directive "${name}"`, 'LDCF_UNKNOWN_DIRECTIVE');
  }
}

/** `file:line: error: message` lines, as `ldirectord -t` prints them. */
export function formatProblems(problems: readonly ConfigProblem[]): string[] {
  return problems.map((p) => `${p.file}:${p.line}: ${p.severity}: ${p.message} [${p.code}]`);
}
