/**
 * The mutable state of one ha.cf parse, shared by the directive handlers.
 * Heartbeat keeps most of this in C statics (the port a media plugin latched,
 * "baud already set", the nice_failback global); here it lives per parse so
 * parsing twice gives the same answer.
 */
import { isCleanInt } from './text.js';
import type { ConfigProblem, HaConfig, Severity } from './types.js';

/** Default UDP port when neither `udpport` nor /etc/services says otherwise. */
export const DEFAULT_UDPPORT = 694;
/** heartbeat's MAXMEDIA and MAXNODE. */
export const MAX_MEDIA = 64;
export const MAX_NODES = 100;

export interface ParseContext {
  readonly file: string;
  /** Lowercased local node name. */
  readonly nodename: string;
  /** udp entries of /etc/services: name (and aliases) -> port. */
  readonly services: ReadonlyMap<string, number>;
  /** false models `heartbeat -M` (no v1 resource management). */
  readonly manageResources: boolean;
  readonly cfg: HaConfig;
  /** Line being applied; 0 while applying defaults. */
  line: number;
  /** Set while applying built-in defaults: their failures are not the user's problem. */
  quiet: boolean;
  /** Port latched by the first bcast / ucast medium (the plugins read udpport once). */
  bcastPort: number | undefined;
  ucastPort: number | undefined;
  /** udpport latched by the first ucast6 line (the ucast6 plugin keeps its own). */
  ucast6Port: number | undefined;
  /** Baud latched by the first serial medium. */
  serialBaud: number | undefined;
  baudSet: boolean;
  watchdogSet: boolean;
  pacemakerSet: boolean;
  /** heartbeat's nice_failback global, consulted by the obsolete nice_failback directive. */
  niceFailback: boolean;
  /** Media lines so far, including the ones heartbeat-ts does not implement. */
  mediaCount: number;
  /** Line of the last successful occurrence of each directive, for post-parse problems. */
  readonly lineOf: Map<string, number>;
  readonly apiClients: Set<string>;
  /** Ping node names (ping hosts and ping_group names), lowercased. */
  readonly pingNodes: string[];
  readonly problems: ConfigProblem[];
}

export function newContext(opts: {
  file: string;
  nodename: string;
  services: ReadonlyMap<string, number>;
  manageResources: boolean;
}): ParseContext {
  return {
    file: opts.file,
    nodename: opts.nodename,
    services: opts.services,
    manageResources: opts.manageResources,
    cfg: baseConfig(opts.nodename),
    line: 0,
    quiet: false,
    bcastPort: undefined,
    ucastPort: undefined,
    ucast6Port: undefined,
    serialBaud: undefined,
    baudSet: false,
    watchdogSet: false,
    pacemakerSet: false,
    niceFailback: false,
    mediaCount: 0,
    lineOf: new Map(),
    apiClients: new Set(),
    pingNodes: [],
    problems: [],
  };
}

/** The values heartbeat starts from before reading ha.cf (init_config). */
function baseConfig(localNode: string): HaConfig {
  return {
    nodes: [],
    keepaliveMs: 1000,
    deadtimeMs: 30000,
    warntimeMs: 0,
    initdeadMs: -1,
    deadpingMs: -1,
    hopfudge: 1,
    udpport: DEFAULT_UDPPORT,
    baud: 19200,
    media: [],
    autoFailback: 'legacy',
    logfile: undefined,
    debugfile: undefined,
    logfacility: undefined,
    useLogd: false,
    syslogmsgfmt: true,
    logBadpack: true,
    debug: 0,
    realtime: true,
    rtprio: undefined,
    memreserveKb: 6500,
    watchdog: undefined,
    stonith: [],
    coredumps: true,
    hbgenmethod: 'file',
    uuidfrom: 'file',
    autojoin: 'none',
    msgfmt: 'classic',
    maxRexmitDelayMs: 250,
    cluster: 'linux-ha',
    respawn: [],
    apiauth: [],
    env: {},
    crm: false,
    raw: {},
    localNode,
    unimplemented: [],
  };
}

/** Records a problem at the current line (or `line`), unless defaults are being applied. */
export function report(ctx: ParseContext, severity: Severity, code: string, message: string, line?: number): void {
  if (ctx.quiet) return;
  ctx.problems.push({ file: ctx.file, line: line ?? ctx.line, severity, code, message });
}

/** A rejected value: heartbeat's own wording when it has one, then what is allowed. */
export function badValue(ctx: ParseContext, directive: string, value: string, allowed: string, hbText?: string): false {
  const head = hbText ?? `Illegal value [${value}] for ${directive}`;
  report(ctx, 'error', 'HACF_BAD_VALUE', `${head}${head.endsWith('.') ? '' : ':'} ${directive} must be ${allowed}`);
  return false;
}

/** Heartbeat reads numbers with atoi; warn when that silently drops part of what was written. */
export function laxNumber(ctx: ParseContext, directive: string, value: string, n: number): void {
  if (isCleanInt(value)) return;
  report(ctx, 'warning', 'HACF_LAX_NUMBER',
    `${directive} value [${value}] is not a plain integer; heartbeat reads it as ${n}`);
}

/** Warns that a directive is accepted and recorded but not acted on by heartbeat-ts. */
export function unimplemented(ctx: ParseContext, directive: string, value: string, what: string): void {
  if (ctx.quiet) return;
  ctx.cfg.unimplemented.push({ directive, value, line: ctx.line });
  report(ctx, 'warning', 'HACF_UNIMPLEMENTED',
    `${directive} is accepted but not implemented by heartbeat-ts yet: ${what}`);
}

/** The UDP port a bcast/ucast medium created now would use (udpport, else /etc/services, else 694). */
export function currentUdpPort(ctx: ParseContext): number {
  const written = ctx.cfg.raw['udpport'];
  if (written !== undefined) {
    const m = /^\s*([+-]?\d+)/.exec(written);
    const n = m?.[1] === undefined ? 0 : Number(m[1]);
    if (n > 0) return n;
  }
  return ctx.services.get('ha-cluster') ?? DEFAULT_UDPPORT;
}
