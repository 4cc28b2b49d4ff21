/**
 * The shapes the configuration parsers produce. Times are milliseconds and
 * named `…Ms`; every value a user wrote is also kept as written (`raw`),
 * because `cl_status hbparameter` reports parameters as written (spec 8.2).
 */
export type Severity = 'error' | 'warning' | 'info';

/** One problem found in a configuration file, with its location. */
export interface ConfigProblem {
  file: string;
  /** 1-based line number; 0 when the problem concerns the whole file. */
  line: number;
  severity: Severity;
  /** Stable code, e.g. `HACF_UNKNOWN_DIRECTIVE`. */
  code: string;
  message: string;
}

export type MediaLine =
  | { kind: 'bcast'; iface: string; port: number; line: number }
  | { kind: 'ucast'; iface: string; peer: string; port: number; line: number }
  | { kind: 'mcast'; iface: string; group: string; port: number; ttl: number; loop: boolean; line: number }
  /** peer: numeric IPv6 without scope; scope: what followed `%`, if anything. */
  | { kind: 'ucast6'; iface: string; peer: string; scope?: string; port: number; line: number }
  | { kind: 'mcast6'; iface: string; group: string; port: number; hops: number; loop: boolean; line: number }
  | { kind: 'serial'; device: string; baud: number; line: number }
  | { kind: 'ping'; host: string; line: number }
  /** host: numeric IPv6, as the ping6 plugin takes it. */
  | { kind: 'ping6'; host: string; line: number }
  | { kind: 'ping_group'; group: string; hosts: string[]; line: number };

export type AutoFailback = 'on' | 'off' | 'legacy';

export interface RespawnLine {
  user: string;
  /** Absolute path of the program (first word after the user). */
  command: string;
  args: string[];
  /** Everything after the user as written: heartbeat runs `sh -c "exec <commandLine>"`. */
  commandLine: string;
  line: number;
}

/** A STONITH device: cluster-glue's plugin `type`, with its parameters inline (`stonith_host`) or in a file (`stonith`). */
export interface StonithDevice {
  type: string;
  params?: string;
  configFile?: string;
  line: number;
}

/** A directive heartbeat-ts accepts and records but does not act on (stonith, failfast, hbaping …). */
export interface UnimplementedLine { directive: string; value: string; line: number }
export interface ApiAuthLine { client: string; uids: string[]; gids: string[]; line: number }

export interface HaConfig {
  /** Normal node names, lowercased, in config order. */
  nodes: string[];
  keepaliveMs: number;
  deadtimeMs: number;
  warntimeMs: number;
  initdeadMs: number;
  deadpingMs: number;
  hopfudge: number;
  udpport: number;
  baud: number;
  media: MediaLine[];
  autoFailback: AutoFailback;
  logfile: string | undefined;
  debugfile: string | undefined;
  logfacility: string | undefined;
  useLogd: boolean;
  syslogmsgfmt: boolean;
  logBadpack: boolean;
  debug: number;
  realtime: boolean;
  /** rtprio: the realtime priority; undefined = the policy's lowest (3.0.6: sched_get_priority_min). */
  rtprio: number | undefined;
  /** memreserve, KiB of stack and heap touched and locked at start. */
  memreserveKb: number;
  /** STONITH devices for this node (`stonith` lines, and `stonith_host` lines for us or `*`), in file order. */
  stonith: StonithDevice[];
  /** watchdog: the device fed every keepalive; undefined = none. */
  watchdog: string | undefined;
  coredumps: boolean;
  hbgenmethod: 'file' | 'time';
  uuidfrom: 'file' | 'nodename';
  autojoin: 'none' | 'other' | 'any';
  msgfmt: 'classic' | 'netstring';
  maxRexmitDelayMs: number;
  cluster: string;
  respawn: RespawnLine[];
  apiauth: ApiAuthLine[];
  /** `env NAME=value` lines, keyed by the exported name (`HA_NAME`) to give to children. */
  env: Record<string, string>;
  /** true when `crm`/`pacemaker` is on: v1 resource management disabled. */
  crm: boolean;
  /** Every directive as written (last value wins), plus computed defaults, for `hbparameter`. */
  raw: Record<string, string>;
  /** The local node name the file was checked against (lowercased). */
  localNode: string;
  /** Accepted directives heartbeat-ts does not implement, in file order (each also got a warning). */
  unimplemented: UnimplementedLine[];
}

export interface AuthKey {
  num: number;
  method: 'crc' | 'md5' | 'sha1';
  /** Empty for crc. */
  key: string;
  line: number;
}

export interface AuthKeys {
  activeNum: number;
  keys: Map<number, AuthKey>;
}

export interface Resource {
  /** Script name (`IPaddr`, `Filesystem`, `httpd`). */
  script: string;
  args: string[];
  /** The resource as written in haresources (`IPaddr::10.0.0.1/24/eth0`, or a bare IP). */
  spec: string;
}

export interface ResourceGroup {
  /** Preferred owner, lowercased. */
  node: string;
  /** The first resource's spec: the group key. */
  key: string;
  resources: Resource[];
  line: number;
}

export interface ParseResult<T> {
  value: T | undefined;
  problems: ConfigProblem[];
}
