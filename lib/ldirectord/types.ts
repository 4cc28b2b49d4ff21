/**
 * The shapes of an ldirectord.cf after parsing. Times are seconds, as users
 * write them; the director converts at the edge. Every element keeps the
 * line it came from so later checks (data plane capabilities, resolution)
 * can still point at the right line.
 */
export type Forward = 'gate' | 'masq' | 'ipip';
export type Protocol = 'tcp' | 'udp' | 'fwm';
export type CheckType =
  | 'negotiate' | 'connect' | 'ping' | 'external' | 'external-perl' | 'on' | 'off' | 'combined';
export type ServiceName =
  | 'dns' | 'ftp' | 'http' | 'https' | 'http_proxy' | 'imap' | 'imaps' | 'ldap' | 'mysql' | 'nntp'
  | 'none' | 'oracle' | 'pgsql' | 'pop' | 'pops' | 'radius' | 'simpletcp' | 'sip' | 'smtp' | 'submission';
export type DataPlaneChoice = 'auto' | 'nftables' | 'ipvs';

export const SERVICE_NAMES: readonly ServiceName[] = [
  'dns', 'ftp', 'http', 'https', 'http_proxy', 'imap', 'imaps', 'ldap', 'mysql', 'nntp', 'none',
  'oracle', 'pgsql', 'pop', 'pops', 'radius', 'simpletcp', 'sip', 'smtp', 'submission',
];

export interface RealServer {
  /** Dotted IPv4 address (hostnames are resolved before use). */
  address: string;
  /** 0 when omitted (fwmark services). */
  port: number;
  forward: Forward;
  weight: number;
  /** Per-real request/receive override (`real=… "req", "recv"`). */
  request?: string;
  receive?: string;
  line: number;
}

export interface Fallback {
  address: string;
  /** undefined: the virtual service's port. */
  port: number | undefined;
  forward: Forward;
  line: number;
}

export interface VirtualService {
  protocol: Protocol;
  /** Address and port for tcp/udp services. */
  address?: string;
  port: number;
  /** Firewall mark for fwm services. */
  fwmark?: number;
  line: number;
  reals: RealServer[];
  scheduler: string;
  schedulerLine: number;
  persistent?: number;
  netmask?: string;
  ops: boolean;
  service: ServiceName;
  checktype: CheckType;
  /** For `checktype=N`: connect checks between negotiate checks. */
  numConnects: number;
  checkcommand: string;
  checkport?: number;
  request: string;
  receive: string;
  httpmethod: 'GET' | 'HEAD';
  virtualhost?: string;
  login: string;
  passwd: string;
  database: string;
  secret: string;
  fallback?: Fallback;
  fallbackcommand?: string;
  /** Per-virtual overrides; undefined means the global value. */
  checktimeout?: number;
  negotiatetimeout?: number;
  checkinterval?: number;
  checkcount?: number;
  failurecount?: number;
  quiescent?: boolean;
  cleanstop?: boolean;
  emailalert?: string;
  emailalertfreq?: number;
  emailalertstatus?: number;
  monitorfile?: string;
  smtp?: string;
}

export interface LdConfig {
  file: string;
  checkinterval: number;
  /** -1 when unset: resolved per virtual service (see effectiveTimeouts). */
  checktimeout: number;
  negotiatetimeout: number;
  checkcount: number;
  failurecount: number;
  autoreload: boolean;
  callback?: string;
  /** Absolute path, or a syslog facility name. */
  logfile: string;
  emailalert: string;
  emailalertfreq: number;
  emailalertstatus: number;
  emailalertfrom?: string;
  smtp?: string;
  fallback?: Fallback;
  fallbackcommand?: string;
  quiescent: boolean;
  readdquiescent: boolean;
  cleanstop: boolean;
  supervised: boolean;
  fork: boolean;
  maintenancedir?: string;
  /** heartbeat-ts extension: which data plane programs the kernel. */
  dataplane: DataPlaneChoice;
  dataplaneLine: number;
  /** `execute=` instances (parsed, not started: see README). */
  execute: string[];
  virtuals: VirtualService[];
}

/** Daemon states for `emailalertstatus` (bit values as in ldirectord). */
export const DAEMON_STATUS = { starting: 1, running: 2, stopping: 4, reloading: 8, all: 15 } as const;

export const DEFAULT_CHECKTIMEOUT = 5;
export const DEFAULT_NEGOTIATETIMEOUT = 30;

/**
 * checktimeout and negotiatetimeout default to each other, per virtual then
 * global, before the built-in defaults (5 s and 30 s).
 */
export function effectiveTimeouts(cfg: LdConfig, v: VirtualService): { check: number; negotiate: number } {
  const pick = (...xs: (number | undefined)[]): number | undefined => xs.find((x) => x !== undefined && x > 0);
  const check = pick(v.checktimeout, v.negotiatetimeout, cfg.checktimeout, cfg.negotiatetimeout) ?? DEFAULT_CHECKTIMEOUT;
  const negotiate = pick(v.negotiatetimeout, v.checktimeout, cfg.negotiatetimeout, cfg.checktimeout) ?? DEFAULT_NEGOTIATETIMEOUT;
  return { check, negotiate };
}

/** `tcp:10.0.0.1:80` or `fwm:5`: names a virtual service in logs and state. */
export interface VirtualKey { protocol: Protocol; address?: string | undefined; port: number; fwmark?: number | undefined }

export function virtualId(v: VirtualKey): string {
  return v.protocol === 'fwm' ? `fwm:${v.fwmark ?? 0}` : `${v.protocol}:${v.address ?? ''}:${v.port}`;
}

/** `10.0.0.1:80` or the mark: how ldirectord prints a virtual service. */
export function virtualLabel(v: VirtualKey): string {
  return v.protocol === 'fwm' ? String(v.fwmark ?? 0) : `${v.address ?? ''}:${v.port}`;
}

/** The fallback that applies to a virtual service, with its port filled in. */
export function fallbackFor(cfg: LdConfig, v: VirtualService): Required<Omit<Fallback, 'port'>> & { port: number } | undefined {
  const f = v.fallback ?? cfg.fallback;
  if (!f) return undefined;
  return { address: f.address, port: f.port ?? v.port, forward: f.forward, line: f.line };
}

/** The port a health check connects to. */
export function checkPort(v: VirtualService, r: RealServer): number {
  if (v.checkport !== undefined) return v.checkport;
  if (r.port > 0) return r.port;
  return SERVICE_PORTS[v.service] ?? 0;
}

export const SERVICE_PORTS: Partial<Record<ServiceName, number>> = {
  ftp: 21, smtp: 25, dns: 53, http: 80, pop: 110, nntp: 119, imap: 143, ldap: 389, https: 443,
  submission: 587, imaps: 993, pops: 995, oracle: 1521, radius: 1812, http_proxy: 3128, mysql: 3306,
  sip: 5060, pgsql: 5432,
};

export function serviceForPort(port: number): ServiceName {
  for (const [name, p] of Object.entries(SERVICE_PORTS)) if (p === port) return name as ServiceName;
  return 'none';
}
