/**
 * `/etc/ha.d/heartbeat-ts.cf`: heartbeat-ts's own directives, in a file real
 * Heartbeat 3.0.6 never reads, so that ha.cf and haresources stay shared with
 * 3.0.6 nodes. Pure and table-driven like the ha.cf parser: one row per
 * directive, every problem with file and line. A missing file means
 * "behave exactly as 3.0.6" (`EMPTY_HBTS_CONFIG`).
 *
 * Syntax: one directive per line, `#` starts a comment, words separated by
 * blanks, options as `name=value`. Times as in ha.cf (`2`, `1.5`, `500ms`)
 * and also `1s`, `2min`.
 */
import type { ConfigProblem, ParseResult, ResourceGroup, Severity } from './types.js';

export const HBTS_CF_NAME = 'heartbeat-ts.cf';

export type OnFail = 'restart' | 'standby' | 'ignore';

export interface MonitorSpec {
  /** The resource exactly as written in haresources (`IPaddr::10.0.0.1/24`, `httpd`). */
  resource: string;
  intervalMs: number;
  timeoutMs: number;
  onFail: OnFail;
  maxFailures: number;
  failureWindowMs: number;
  line: number;
}

export interface HttpListen {
  /** Numeric address as written, without brackets (`127.0.0.1`, `::1`). */
  host: string;
  port: number;
  line: number;
}

export interface HbtsConfig {
  /** false when the file does not exist: every default below is 3.0.6's behaviour. */
  present: boolean;
  monitors: MonitorSpec[];
  quorum: 'off' | 'majority';
  httpListen: HttpListen | undefined;
  /** Skip RQSTDELAY when every node says it does (on by default once the file exists). */
  fastStart: boolean;
  /** `inprocess_ip on|off`: our own IPaddr/IPaddr2 run in-process (default on; read at start). */
  inprocessIp: boolean;
  /** Line of the last occurrence of each directive. */
  lineOf: Record<string, number>;
}

export const EMPTY_HBTS_CONFIG: HbtsConfig = Object.freeze({
  present: false, monitors: [], quorum: 'off', httpListen: undefined, fastStart: false, inprocessIp: true, lineOf: {},
}) as HbtsConfig;

export const MONITOR_DEFAULTS = Object.freeze({
  timeoutMs: 20_000, onFail: 'restart' as OnFail, maxFailures: 3, failureWindowMs: 600_000,
});

/** Longest line read; longer ones are an error (a config line is never that long). */
const MAX_LINE = 4096;
/** Longest time accepted: one day. */
const MAX_TIME_MS = 86_400_000;

const TIME_UNITS: Record<string, number> = { '': 1000, s: 1000, ms: 1, min: 60_000 };

/**
 * A time in milliseconds: a decimal number and an optional unit (none or `s`
 * = seconds, `ms`, `min`), rounded to whole milliseconds; undefined when
 * malformed, negative or over a day.
 */
export function parseExtTime(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?|\.\d+)\s*([a-z]*)$/i.exec(text.trim());
  if (m === null) return undefined;
  const unit = TIME_UNITS[(m[2] ?? '').toLowerCase()];
  if (unit === undefined) return undefined;
  const ms = Math.round(Number(m[1]) * unit);
  return ms <= MAX_TIME_MS ? ms : undefined;
}

/** One parse: the config being filled and the problem sink, shared by the rows. */
export interface HbtsContext {
  readonly file: string;
  readonly cfg: HbtsConfig;
  readonly problems: ConfigProblem[];
  line: number;
}

export function hbtsProblem(ctx: HbtsContext, severity: Severity, code: string, message: string): void {
  ctx.problems.push({ file: ctx.file, line: ctx.line, severity, code, message });
}

/** `name=value` words after the directive's positional words; a word without `=` is an error. */
export function splitOptions(ctx: HbtsContext, directive: string, words: readonly string[]): Map<string, string> | undefined {
  const out = new Map<string, string>();
  for (const w of words) {
    const eq = w.indexOf('=');
    if (eq <= 0) {
      hbtsProblem(ctx, 'error', 'HBTS_BAD_OPTION', `${directive}: expected name=value, got "${printable(w)}"`);
      return undefined;
    }
    const name = w.slice(0, eq);
    if (out.has(name)) {
      hbtsProblem(ctx, 'error', 'HBTS_BAD_OPTION', `${directive}: option ${printable(name)} given twice`);
      return undefined;
    }
    out.set(name, w.slice(eq + 1));
  }
  return out;
}

/** Words shown in messages: bounded and without control characters. */
export function printable(s: string): string {
  const cut = s.length > 80 ? `${s.slice(0, 80)}…` : s;
  return cut.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export interface HbtsDirective {
  name: string;
  /** Positional words before the options: [min, max]. */
  args: [number, number];
  /** Applies one line; reports its own problems. */
  apply: (ctx: HbtsContext, args: string[], words: string[]) => void;
  /** May appear only once. */
  once: boolean;
  /** Takes name=value options after its positional words. */
  options: boolean;
}

function timeOption(ctx: HbtsContext, directive: string, name: string, text: string, min: number): number | undefined {
  const ms = parseExtTime(text);
  if (ms === undefined || ms < min) {
    hbtsProblem(ctx, 'error', 'HBTS_BAD_TIME',
      `${directive}: ${name}=${printable(text)} is not a time of at least ${min}ms (examples: 2, 1.5, 500ms, 1s, 2min)`);
    return undefined;
  }
  return ms;
}

const MONITOR_OPTIONS = new Set(['interval', 'timeout', 'on-fail', 'max-failures', 'failure-window']);
const ON_FAIL: readonly OnFail[] = ['restart', 'standby', 'ignore'];

function applyMonitor(ctx: HbtsContext, args: string[], words: string[]): void {
  const resource = args[0] ?? '';
  const opts = splitOptions(ctx, 'monitor', words);
  if (opts === undefined) return;
  for (const k of opts.keys()) {
    if (!MONITOR_OPTIONS.has(k)) {
      hbtsProblem(ctx, 'error', 'HBTS_UNKNOWN_OPTION',
        `monitor: unknown option ${printable(k)} (known: ${[...MONITOR_OPTIONS].join(', ')})`);
      return;
    }
  }
  const intervalText = opts.get('interval');
  if (intervalText === undefined) {
    hbtsProblem(ctx, 'error', 'HBTS_MISSING_OPTION', `monitor ${printable(resource)}: interval= is required`);
    return;
  }
  const intervalMs = timeOption(ctx, 'monitor', 'interval', intervalText, 100);
  const t = opts.get('timeout');
  const timeoutMs = t === undefined ? MONITOR_DEFAULTS.timeoutMs : timeOption(ctx, 'monitor', 'timeout', t, 100);
  const w = opts.get('failure-window');
  const failureWindowMs = w === undefined ? MONITOR_DEFAULTS.failureWindowMs : timeOption(ctx, 'monitor', 'failure-window', w, 1000);
  const of = opts.get('on-fail') ?? MONITOR_DEFAULTS.onFail;
  const onFail = ON_FAIL.find((x) => x === of);
  if (onFail === undefined) {
    hbtsProblem(ctx, 'error', 'HBTS_BAD_VALUE', `monitor: on-fail=${printable(of)} (expected ${ON_FAIL.join(', ')})`);
  }
  const mf = opts.get('max-failures');
  const maxFailures = mf === undefined ? MONITOR_DEFAULTS.maxFailures : /^\d{1,6}$/.test(mf) ? Number(mf) : NaN;
  if (!(maxFailures >= 1)) {
    hbtsProblem(ctx, 'error', 'HBTS_BAD_VALUE', `monitor: max-failures=${printable(mf ?? '')} is not a whole number >= 1`);
  }
  if (ctx.cfg.monitors.some((m) => m.resource === resource)) {
    hbtsProblem(ctx, 'error', 'HBTS_DUPLICATE', `monitor: ${printable(resource)} is already monitored (line ${ctx.cfg.monitors.find((m) => m.resource === resource)?.line})`);
    return;
  }
  if (intervalMs === undefined || timeoutMs === undefined || failureWindowMs === undefined || onFail === undefined || !(maxFailures >= 1)) return;
  ctx.cfg.monitors.push({ resource, intervalMs, timeoutMs, onFail, maxFailures, failureWindowMs, line: ctx.line });
}

function applyQuorum(ctx: HbtsContext, args: string[]): void {
  const v = args[0];
  if (v !== 'majority' && v !== 'off') {
    hbtsProblem(ctx, 'error', 'HBTS_BAD_VALUE', `quorum: ${printable(v ?? '')} (expected majority or off)`);
    return;
  }
  ctx.cfg.quorum = v;
}

/** An `on|off` directive's value as a boolean; undefined (with the problem recorded) for anything else. */
function onOff(ctx: HbtsContext, name: string, v: string | undefined): boolean | undefined {
  if (v === 'on' || v === 'off') return v === 'on';
  hbtsProblem(ctx, 'error', 'HBTS_BAD_VALUE', `${name}: ${printable(v ?? '')} (expected on or off)`);
  return undefined;
}

function applyFastStart(ctx: HbtsContext, args: string[]): void {
  ctx.cfg.fastStart = onOff(ctx, 'fast_start', args[0]) ?? ctx.cfg.fastStart;
}

function applyHttpListen(ctx: HbtsContext, args: string[]): void {
  const text = args[0] ?? '';
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):(\d{1,5})$/.exec(text);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (m === null || host === undefined || !(port >= 1 && port <= 65535) || (m[2] !== undefined && m[2].split('.').some((o) => Number(o) > 255))) {
    hbtsProblem(ctx, 'error', 'HBTS_BAD_VALUE',
      `http_listen: ${printable(text)} is not ADDRESS:PORT with a numeric address (examples: 127.0.0.1:9694, [::1]:9694)`);
    return;
  }
  ctx.cfg.httpListen = { host, port, line: ctx.line };
  if (!/^127\./.test(host) && host !== '::1') {
    hbtsProblem(ctx, 'warning', 'HBTS_HTTP_EXPOSED',
      `http_listen: ${printable(text)} is not a loopback address: anyone who reaches it reads the cluster's state (there is no authentication); keep it on a management network`);
  }
}

function applyInprocessIp(ctx: HbtsContext, args: string[]): void {
  ctx.cfg.inprocessIp = onOff(ctx, 'inprocess_ip', args[0]) ?? ctx.cfg.inprocessIp;
}

/** The one table of heartbeat-ts.cf directives. */
export const HBTS_DIRECTIVES: readonly HbtsDirective[] = [
  { name: 'monitor', args: [1, 1], once: false, options: true, apply: applyMonitor },
  { name: 'quorum', args: [1, 1], once: true, options: false, apply: applyQuorum },
  { name: 'http_listen', args: [1, 1], once: true, options: false, apply: applyHttpListen },
  { name: 'fast_start', args: [1, 1], once: true, options: false, apply: applyFastStart },
  { name: 'inprocess_ip', args: [1, 1], once: true, options: false, apply: applyInprocessIp },
];

/** Number of positional words a directive takes before its name=value options. */
function positionalCount(d: HbtsDirective, words: readonly string[]): number {
  let n = 0;
  while (n < words.length && n < d.args[1] && !(n >= d.args[0] && words[n]?.includes('='))) n++;
  return n;
}

export function parseHbtsCf(text: string, opts: { file: string }): ParseResult<HbtsConfig> {
  const cfg: HbtsConfig = { present: true, monitors: [], quorum: 'off', httpListen: undefined, fastStart: true, inprocessIp: true, lineOf: {} };
  const ctx: HbtsContext = { file: opts.file, cfg, problems: [], line: 0 };
  text.split('\n').forEach((physical, i) => {
    ctx.line = i + 1;
    if (physical.length > MAX_LINE) {
      hbtsProblem(ctx, 'error', 'HBTS_LINE_TOO_LONG', `line is longer than ${MAX_LINE} characters`);
      return;
    }
    const words = (physical.split('#')[0] ?? '').trim().split(/\s+/).filter((w) => w !== '');
    const name = words.shift();
    if (name === undefined) return;
    const d = HBTS_DIRECTIVES.find((x) => x.name === name);
    if (d === undefined) {
      hbtsProblem(ctx, 'error', 'HBTS_UNKNOWN_DIRECTIVE',
        `unknown directive ${printable(name)} (known: ${HBTS_DIRECTIVES.map((x) => x.name).join(', ')})`);
      return;
    }
    if (d.once && cfg.lineOf[d.name] !== undefined) {
      hbtsProblem(ctx, 'error', 'HBTS_DUPLICATE', `${d.name} given twice (first at line ${cfg.lineOf[d.name]})`);
      return;
    }
    const n = positionalCount(d, words);
    const count = `${d.args[0]}${d.args[1] > d.args[0] ? `-${d.args[1]}` : ''}`;
    if (n < d.args[0]) {
      hbtsProblem(ctx, 'error', 'HBTS_BAD_ARGUMENTS', `${d.name}: expected ${count} value(s)${d.options ? ' before its name=value options' : ''}`);
      return;
    }
    if (!d.options && n < words.length) {
      hbtsProblem(ctx, 'error', 'HBTS_BAD_ARGUMENTS', `${d.name}: takes ${count} value(s), found more ("${printable(words[n] ?? '')}")`);
      return;
    }
    cfg.lineOf[d.name] = ctx.line;
    d.apply(ctx, words.slice(0, n), words.slice(n));
  });
  return { value: cfg, problems: ctx.problems };
}

/**
 * Checks heartbeat-ts.cf against haresources: every monitored resource must be
 * written exactly so in some group.
 */
export function checkHbtsAgainstGroups(cfg: HbtsConfig, groups: readonly ResourceGroup[], file: string): ConfigProblem[] {
  const specs = new Set(groups.flatMap((g) => g.resources.map((r) => r.spec)));
  return cfg.monitors.filter((m) => !specs.has(m.resource)).map((m) => ({
    file, line: m.line, severity: 'error' as const, code: 'HBTS_UNKNOWN_RESOURCE',
    message: `monitor: ${printable(m.resource)} is not a resource of haresources (write it as it is written there)`,
  }));
}

/**
 * What `quorum majority` means for this ha.cf: with two normal nodes a
 * split leaves neither side with quorum (both release, no failover at all);
 * legacy auto_failback keeps no holdings for the gate to merge.
 */
export function checkHbtsAgainstNodes(cfg: HbtsConfig, normalNodes: number, autoFailback: string, file: string): ConfigProblem[] {
  if (cfg.quorum !== 'majority') return [];
  const line = cfg.lineOf['quorum'] ?? 0;
  const out: ConfigProblem[] = [];
  if (normalNodes <= 2) {
    out.push({ file, line, severity: 'warning', code: 'HBTS_QUORUM_TWO_NODES',
      message: `quorum majority with ${normalNodes} node(s): a node alone never has quorum, so a failure or a split stops every resource instead of moving it (use STONITH for two nodes)` });
  }
  if (autoFailback === 'legacy') {
    out.push({ file, line, severity: 'error', code: 'HBTS_QUORUM_LEGACY', message: 'quorum majority needs auto_failback on or off (legacy mode keeps no holdings)' });
  }
  return out;
}
