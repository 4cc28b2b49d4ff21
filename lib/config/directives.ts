/**
 * The one table of ha.cf directives (spec 8.2). Order matters: the entries
 * with a default are listed in heartbeat's own order, because `heartbeat -D`
 * (formatDefaults) prints them in table order.
 *
 * kind: `option` values are split on space/tab/comma and applied one token
 * at a time; `whole-line` handlers get the rest of the line; `media` are
 * either, as `perToken` says. `record`: whether heartbeat remembers the value
 * for `hbparameter` (our `raw`). `status`: `ignored` = checked and recorded,
 * no effect here; `unimplemented` = accepted with a warning.
 */
import {
  addNode, beforePacemaker, boolOption, ignored, intOption, setAutoFailback, setBaud, setCrm, setEnv,
  setFacility, setNiceFailback, setPacemaker, setQuorumServer, setUdpPort, setWatchdog, timeOption,
  wordOption, type Apply,
} from './options.js';
import { bcast, mcast, mcast6, ping, ping6, pingGroup, serial, ucast, ucast6, unimplementedMedium } from './media.js';
import { apiauth, failfast, respawn, stonith, stonithHost } from './wholeline.js';
import { parseHbTime } from './time.js';
import type { HaConfig } from './types.js';

export type DirectiveKind = 'option' | 'whole-line' | 'media';

export interface Directive {
  name: string;
  kind: DirectiveKind;
  /** true: one call per token (option directives and bcast/serial/ping…); false: rest of line. */
  perToken: boolean;
  /** Default exactly as heartbeat records it (and `heartbeat -D` prints it). */
  default?: string;
  /** heartbeat's one-line explanation (the `-D` Description column). */
  description?: string;
  /** The HaConfig field the directive fills, if any. */
  key?: keyof HaConfig;
  record: boolean;
  status: 'implemented' | 'ignored' | 'unimplemented';
  apply: Apply;
}

const positive = (n: number): boolean => n > 0;

function opt(d: Omit<Directive, 'kind' | 'perToken' | 'record' | 'status'> & Partial<Directive>): Directive {
  return { kind: 'option', perToken: true, record: true, status: 'implemented', ...d };
}
function line(name: string, apply: Apply, status: Directive['status'], key?: keyof HaConfig): Directive {
  return { name, kind: 'whole-line', perToken: false, record: false, status, apply, ...(key ? { key } : {}) };
}
function medium(name: string, perToken: boolean, apply: Apply, status: Directive['status'] = 'implemented'): Directive {
  return { name, kind: 'media', perToken, record: false, status, key: 'media', apply };
}

const PCMK_DESCRIPTIONS = {
  record_config_changes: 'record changes to the cib (valid only with: pacemaker on)',
  record_pengine_inputs: 'record the input used by the policy engine (valid only with: pacemaker on)',
  enable_config_writes: 'write configuration changes to disk (valid only with: pacemaker on)',
} as const;

export const DIRECTIVES: readonly Directive[] = [
  opt({ name: 'cluster', default: 'linux-ha', description: 'the name of cluster', key: 'cluster',
    apply: (v, ctx) => { ctx.cfg.cluster = v; return true; } }),
  opt({ name: 'node', key: 'nodes', record: false, apply: addNode }),
  opt({ name: 'hopfudge', default: '1', description: '# of hops above cluster size', key: 'hopfudge',
    apply: intOption('hopfudge', (n) => n >= 0 && n < 256, 'an integer 0-255', (n, c) => { c.hopfudge = n; }) }),
  opt({ name: 'keepalive', default: '1000ms', description: 'keepalive time', key: 'keepaliveMs',
    apply: timeOption('keepalive', 'keepaliveMs', 1) }),
  opt({ name: 'deadtime', default: '30000ms', description: 'node deadtime', key: 'deadtimeMs',
    apply: timeOption('deadtime', 'deadtimeMs', 0) }),
  opt({ name: 'deadping', description: 'ping deadtime', key: 'deadpingMs', apply: timeOption('deadping', 'deadpingMs', 0) }),
  opt({ name: 'initdead', description: 'initial deadtime', key: 'initdeadMs', apply: timeOption('initdead', 'initdeadMs', 0) }),
  opt({ name: 'warntime', description: 'warning time', key: 'warntimeMs',
    apply: timeOption('warntime', 'warntimeMs', 1, (v) => `Warn time [${v}] is invalid.`) }),
  opt({ name: 'watchdog', description: 'watchdog device', apply: setWatchdog }),
  opt({ name: 'baud', default: '19200', description: 'baud rate', key: 'baud', apply: setBaud }),
  opt({ name: 'udpport', description: 'UDP port number', key: 'udpport', apply: setUdpPort }),
  opt({ name: 'logfacility', description: 'syslog log facility', key: 'logfacility', apply: setFacility }),
  opt({ name: 'logfile', description: 'log file', key: 'logfile', apply: (v, ctx) => { ctx.cfg.logfile = v; return true; } }),
  opt({ name: 'debugfile', description: 'debug file', key: 'debugfile',
    apply: (v, ctx) => { ctx.cfg.debugfile = v; return true; } }),
  opt({ name: 'nice_failback', key: 'autoFailback', record: false, apply: setNiceFailback }),
  opt({ name: 'auto_failback', default: 'legacy', description: 'auto failback', key: 'autoFailback', apply: setAutoFailback }),
  opt({ name: 'rtprio', description: 'realtime priority',
    apply: intOption('rtprio', (n) => n >= 1 && n <= 99, 'an integer 1-99 (the SCHED_FIFO range)', (n, c) => { c.rtprio = n; },
      (v) => `Illegal realtime priority [${v}]`) }),
  opt({ name: 'hbgenmethod', default: 'file', description: 'protocol generation computation method', key: 'hbgenmethod',
    apply: wordOption('hbgenmethod', ['file', 'time'] as const, false, (w, c) => { c.hbgenmethod = w; },
      (v) => `Illegal hb generation method [${v}]`) }),
  opt({ name: 'realtime', default: 'true', description: 'enable realtime behavior?', key: 'realtime',
    apply: boolOption('realtime', (b, c) => { c.realtime = b; }) }),
  opt({ name: 'debug', description: 'debug level', key: 'debug',
    apply: intOption('debug', (n) => n >= 0 && n < 256, 'an integer 0-255', (n, c) => { c.debug = n; }) }),
  opt({ name: 'msgfmt', default: 'classic', description: 'message format in the wire', key: 'msgfmt',
    apply: wordOption('msgfmt', ['classic', 'netstring'] as const, false, (w, c) => { c.msgfmt = w; }) }),
  opt({ name: 'use_logd', description: 'use logging daemon', key: 'useLogd',
    apply: boolOption('use_logd', (b, c) => { c.useLogd = b; }) }),
  opt({ name: 'conn_logd_time', default: '60', description: 'the interval to reconnect to logd', status: 'ignored',
    apply: ignored(timeOption('conn_logd_time', undefined, 1), 'conn_logd_time') }),
  opt({ name: 'use_apphbd', description: 'register with apphbd', record: false, status: 'ignored',
    apply: ignored(boolOption('use_apphbd'), 'use_apphbd') }),
  opt({ name: 'log_badpack', default: 'true', description: 'warn about bad packets', key: 'logBadpack',
    apply: boolOption('log_badpack', (b, c) => { c.logBadpack = b; }) }),
  opt({ name: 'syslogmsgfmt', default: 'true', description: 'log to files in syslog format', key: 'syslogmsgfmt',
    apply: boolOption('syslogmsgfmt', (b, c) => { c.syslogmsgfmt = b; }) }),
  opt({ name: 'coredumps', default: 'true', description: 'enable Linux-HA core dumps', key: 'coredumps', status: 'ignored',
    apply: ignored(boolOption('coredumps', (b, c) => { c.coredumps = b; }), 'coredumps') }),
  opt({ name: 'coreroot', description: 'set root directory of core dump area', status: 'ignored',
    apply: ignored(() => true, 'coreroot') }),
  opt({ name: 'crm_daemon_dir', description: 'location for Pacemaker daemons', status: 'ignored',
    apply: beforePacemaker(ignored(() => true, 'crm_daemon_dir')) }),
  opt({ name: 'crmd_spawns_pengine', description: 'should pengine be spawned directly by heartbeat', status: 'ignored',
    apply: beforePacemaker(ignored(boolOption('crmd_spawns_pengine', undefined, (v) => `Invalid directive value ${v}`),
      'crmd_spawns_pengine')) }),
  opt({ name: 'crm', description: "historical alias for 'pacemaker'", key: 'crm', record: false, apply: setCrm }),
  opt({ name: 'pacemaker', default: 'false', description: 'enable Pacemaker resource management', key: 'crm',
    apply: setPacemaker }),
  opt({ name: 'autojoin', default: 'none', description: 'set automatic join mode/style', key: 'autojoin',
    apply: wordOption('autojoin', ['none', 'other', 'any'] as const, true, (w, c) => { c.autojoin = w; },
      (v) => `Invalid autojoin directive [${v}]`) }),
  opt({ name: 'uuidfrom', default: 'file', description: 'set the source for uuid', key: 'uuidfrom',
    apply: wordOption('uuidfrom', ['file', 'nodename'] as const, false, (w, c) => { c.uuidfrom = w; },
      (v) => `Invalid uuidfrom directive [${v}]`) }),
  opt({ name: 'compression', default: 'zlib', description: 'set compression module', status: 'ignored',
    apply: ignored(wordOption('compression', ['zlib', 'bz2'] as const, false), 'compression') }),
  opt({ name: 'compression_threshold', default: '2', description: 'set compression threshold', status: 'ignored',
    apply: ignored(intOption('compression_threshold', positive, 'an integer number of KiB greater than 0', undefined,
      (v) => `compress_threshhold(${v}) invalid`), 'compression_threshold') }),
  opt({ name: 'traditional_compression', default: 'no', description: 'set traditional_compression', status: 'ignored',
    apply: ignored(boolOption('traditional_compression', undefined, (v) => `Invalid directive value ${v}`),
      'traditional_compression') }),
  opt({ name: 'env', description: 'set environment variable for respawn clients', key: 'env', record: false,
    apply: setEnv }),
  opt({ name: 'max_rexmit_delay', default: '250', description: 'set the maximum rexmit delay time', key: 'maxRexmitDelayMs',
    apply: intOption('max_rexmit_delay', positive, 'an integer number of milliseconds greater than 0',
      (n, c) => { c.maxRexmitDelayMs = n; }, (v) => `Invalid max_rexmit_delay time(${v})`) }),
  ...(['record_config_changes', 'record_pengine_inputs', 'enable_config_writes'] as const).map((name) =>
    opt({ name, default: 'on', description: PCMK_DESCRIPTIONS[name], status: 'ignored',
      apply: ignored(boolOption(name, undefined, (v) => `Invalid directive value ${v}`), name) })),
  // Checked and reported; nothing to reserve: memory is not locked (daemon/realtime.ts says why).
  opt({ name: 'memreserve', default: '6500', description: 'number of kbytes to preallocate in heartbeat', key: 'memreserveKb', status: 'ignored',
    apply: ignored(intOption('memreserve', positive, 'an integer number of KiB greater than 0', (n, c) => { c.memreserveKb = n; }), 'memreserve') }),
  opt({ name: 'quorum_server', description: 'the name or ip of quorum server', status: 'unimplemented',
    apply: setQuorumServer }),

  line('stonith', stonith, 'implemented'),
  line('stonith_host', stonithHost, 'implemented'),
  line('apiauth', apiauth, 'implemented', 'apiauth'),
  line('respawn', respawn, 'implemented', 'respawn'),
  line('failfast', failfast, 'unimplemented'),

  medium('bcast', true, bcast),
  medium('ucast', false, ucast),
  medium('mcast', false, mcast),
  medium('serial', true, serial),
  medium('ping', true, ping),
  medium('ping_group', false, pingGroup),
  medium('ucast6', false, ucast6),
  medium('mcast6', false, mcast6),
  medium('ping6', true, ping6),
  medium('hbaping', true, unimplementedMedium('hbaping', 1, 'hbaping <fc-card-name>'), 'unimplemented'),
];

const BY_NAME: ReadonlyMap<string, Directive> = new Map(DIRECTIVES.map((d) => [d.name, d]));

/** The directive called exactly `name` (case-sensitive, as in heartbeat), if any. */
export function findDirective(name: string): Directive | undefined {
  return BY_NAME.get(name);
}

/** Milliseconds of a directive default that is a time (keepalive, deadtime). */
export function defaultMs(name: string): number | undefined {
  const d = BY_NAME.get(name)?.default;
  return d === undefined ? undefined : parseHbTime(d);
}
