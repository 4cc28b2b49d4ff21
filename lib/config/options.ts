/**
 * Handlers of the ha.cf "option" directives (one value per token). Each
 * returns false after reporting when heartbeat would reject the value; a
 * rejected value changes nothing and is not recorded.
 */
import { parseBoolean, parseHbTime } from './time.js';
import { asciiLower, atoi } from './text.js';
import { BAUD_RATES } from './media.js';
import {
  badValue, laxNumber, MAX_NODES, report, unimplemented, type ParseContext,
} from './state.js';
import type { HaConfig } from './types.js';

export type Apply = (value: string, ctx: ParseContext) => boolean;

const TIME_HINT = 'plain numbers are seconds; 500ms and 100us are also accepted';

/** A time directive: `min` is the smallest accepted value in ms. */
export function timeOption(
  name: string, key: 'keepaliveMs' | 'deadtimeMs' | 'deadpingMs' | 'initdeadMs' | 'warntimeMs' | undefined,
  min: number, hbText?: (v: string) => string,
): Apply {
  return (v, ctx) => {
    const ms = parseHbTime(v);
    if (ms === undefined || ms < min) {
      const what = min > 0 ? 'a time greater than 0' : 'a time';
      return badValue(ctx, name, v, `${what} (${TIME_HINT})`, hbText?.(v));
    }
    if (key !== undefined) ctx.cfg[key] = ms;
    return true;
  };
}

/** An integer directive read with atoi, accepted when `ok`. */
export function intOption(
  name: string, ok: (n: number) => boolean, allowed: string, set?: (n: number, cfg: HaConfig) => void,
  hbText?: (v: string) => string,
): Apply {
  return (v, ctx) => {
    const n = atoi(v);
    if (!ok(n)) return badValue(ctx, name, v, allowed, hbText?.(v));
    laxNumber(ctx, name, v, n);
    set?.(n, ctx.cfg);
    return true;
  };
}

export function boolOption(name: string, set?: (b: boolean, cfg: HaConfig) => void, hbText?: (v: string) => string): Apply {
  return (v, ctx) => {
    const b = parseBoolean(v);
    if (b === undefined) return badValue(ctx, name, v, 'a boolean (true/on/yes/y/1 or false/off/no/n/0)', hbText?.(v));
    set?.(b, ctx.cfg);
    return true;
  };
}

/** A word from a fixed list (`caseless` when heartbeat compares with strcasecmp). */
export function wordOption<W extends string>(
  name: string, words: readonly W[], caseless: boolean, set?: (w: W, cfg: HaConfig) => void,
  hbText?: (v: string) => string,
): Apply {
  return (v, ctx) => {
    const probe = caseless ? asciiLower(v) : v;
    const w = words.find((x) => x === probe);
    if (w === undefined) return badValue(ctx, name, v, `one of ${words.join(', ')}`, hbText?.(v));
    set?.(w, ctx.cfg);
    return true;
  };
}

/** Notes that an explicitly written directive has no effect here (defaults stay silent). */
export function ignored(apply: Apply, what: string): Apply {
  return (v, ctx) => {
    if (!apply(v, ctx)) return false;
    report(ctx, 'info', 'HACF_IGNORED', `${what} is checked and recorded but has no effect in heartbeat-ts`);
    return true;
  };
}

export const addNode: Apply = (v, ctx) => {
  const name = asciiLower(v);
  if (ctx.cfg.nodes.includes(name)) {
    report(ctx, 'warning', 'HACF_DUPLICATE_NODE', `node ${name} is listed more than once; the repeat is ignored`);
    return true;
  }
  if (ctx.cfg.nodes.length + ctx.pingNodes.length >= MAX_NODES) {
    report(ctx, 'error', 'HACF_TOO_MANY', `Too many nodes: node ${name} is beyond the limit of ${MAX_NODES}`);
    return false;
  }
  ctx.cfg.nodes.push(name);
  return true;
};

export const setBaud: Apply = (v, ctx) => {
  if (ctx.baudSet) {
    report(ctx, 'error', 'HACF_DUPLICATE', 'Baudrate multiply specified. baud may appear only once');
    return false;
  }
  ctx.baudSet = true;
  const n = atoi(v);
  if (!BAUD_RATES.includes(n)) {
    return badValue(ctx, 'baud', v, `one of ${BAUD_RATES.join(', ')}`, `invalid baudrate [${v}] specified.`);
  }
  laxNumber(ctx, 'baud', v, n);
  if (ctx.serialBaud !== undefined) {
    report(ctx, 'warning', 'HACF_ORDER',
      `baudrate setting must precede media statements: the serial media above keep ${ctx.serialBaud} baud`);
  }
  ctx.cfg.baud = n;
  return true;
};

export const setUdpPort: Apply = (v, ctx) => {
  const n = atoi(v);
  if (n <= 0 || n > 65535) {
    return badValue(ctx, 'udpport', v, 'a port number 1-65535', `invalid port [${v}] specified.`);
  }
  laxNumber(ctx, 'udpport', v, n);
  for (const [service, port] of ctx.services) {
    if (port !== n) continue;
    if (service !== 'ha-cluster') {
      report(ctx, 'warning', 'HACF_UDPPORT_RESERVED', `udp port ${v} reserved for service "${service}".`);
    }
    break;
  }
  const latched = ctx.bcastPort ?? ctx.ucastPort ?? ctx.ucast6Port;
  if (latched !== undefined) {
    report(ctx, 'warning', 'HACF_ORDER', `udpport setting must precede media statements: the media above keep port ${latched}`);
  }
  ctx.cfg.udpport = n;
  return true;
};

export const setWatchdog: Apply = (v, ctx) => {
  if (ctx.watchdogSet) {
    report(ctx, 'error', 'HACF_DUPLICATE', 'Watchdog device multiply specified. watchdog may appear only once');
    return false;
  }
  ctx.watchdogSet = true;
  ctx.cfg.watchdog = v;
  return true;
};

/** Facility names libplumb accepts (glibc facilitynames plus `none`), with their numbers. */
const FACILITIES: ReadonlyMap<string, number> = new Map([
  ['none', 0], ['kern', 0], ['user', 8], ['mail', 16], ['daemon', 24], ['auth', 32], ['security', 32],
  ['syslog', 40], ['lpr', 48], ['news', 56], ['uucp', 64], ['cron', 72], ['authpriv', 80], ['ftp', 88],
  ['local0', 128], ['local1', 136], ['local2', 144], ['local3', 152], ['local4', 160], ['local5', 168],
  ['local6', 176], ['local7', 184], ['mark', 192],
]);

export const setFacility: Apply = (v, ctx) => {
  const code = FACILITIES.get(v);
  if (code === undefined) {
    return badValue(ctx, 'logfacility', v, 'none or a syslog facility name (daemon, local0 … local7, user, …)',
      `Log facility(${v}) not valid`);
  }
  // Heartbeat treats facility number 0 (none, and also kern) as "no syslog".
  ctx.cfg.logfacility = code === 0 ? undefined : v === 'security' ? 'auth' : v;
  return true;
};

export const setAutoFailback: Apply = (v, ctx) => {
  const b = parseBoolean(v);
  if (b !== undefined) {
    ctx.cfg.autoFailback = b ? 'on' : 'off';
    ctx.niceFailback = true;
    return true;
  }
  if (asciiLower(v) === 'legacy') {
    ctx.cfg.autoFailback = 'legacy';
    ctx.niceFailback = false;
    return true;
  }
  return badValue(ctx, 'auto_failback', v, 'on, off (or another boolean) or legacy');
};

/**
 * The obsolete `nice_failback`. Heartbeat decides the conversion from its
 * nice_failback *global* (set by an earlier auto_failback on/off), not from
 * the value written, so `nice_failback on` alone becomes legacy; verified
 * against the real binary (test/netns/config-oracle.test.ts).
 */
export const setNiceFailback: Apply = (v, ctx) => {
  const obsolete = 'nice_failback flag is obsolete. Use auto_failback {on, off, legacy} instead.';
  if (parseBoolean(v) === undefined) {
    return badValue(ctx, 'nice_failback', v, 'a boolean (and is obsolete: use auto_failback)', obsolete);
  }
  if (ctx.niceFailback) {
    report(ctx, 'warning', 'HACF_NICE_FAILBACK', `${obsolete} 'nice_failback ${v}' has been changed to 'auto_failback off'`);
    setAutoFailback('off', ctx);
  } else {
    report(ctx, 'warning', 'HACF_NICE_FAILBACK',
      `${obsolete} nice_failback ${v} has been strictly interpreted as 'auto_failback legacy'. Consider converting to 'auto_failback on'.`);
    setAutoFailback('legacy', ctx);
  }
  return true;
};

/** Pacemaker-only directives must come before `pacemaker`/`crm` (heartbeat reads them while handling it). */
export function beforePacemaker(apply: Apply): Apply {
  return (v, ctx) => {
    if (ctx.pacemakerSet) {
      report(ctx, 'error', 'HACF_ORDER', `If you specify ${v}, it must come before the pacemaker directive`);
      return false;
    }
    return apply(v, ctx);
  };
}

const PCMK_WORDS = ['respawn', 'minimal', 'manual', 'valgrind', 'ccm-only'];

/** `pacemaker` and its historical alias `crm`, which heartbeat applies and records as `pacemaker`. */
function pacemakerDirective(name: 'pacemaker' | 'crm'): Apply {
  return (v, ctx) => {
    if (ctx.pacemakerSet) {
      report(ctx, 'error', 'HACF_DUPLICATE', 'pacemaker/crm directive used multiple times!');
      return false;
    }
    ctx.pacemakerSet = true;
    const b = PCMK_WORDS.includes(asciiLower(v)) ? true : parseBoolean(v);
    if (b === undefined) {
      return badValue(ctx, name, v, `a boolean or one of ${PCMK_WORDS.join(', ')}`);
    }
    ctx.cfg.crm = b;
    if (b) {
      unimplemented(ctx, name, v,
        'Pacemaker is not supported; v1 (haresources) resource management is disabled and no cluster resource manager runs');
    }
    if (name === 'crm') {
      ctx.cfg.raw['pacemaker'] = v;
      ctx.lineOf.set('pacemaker', ctx.line);
    }
    return true;
  };
}

export const setPacemaker: Apply = pacemakerDirective('pacemaker');
export const setCrm: Apply = pacemakerDirective('crm');

export const setEnv: Apply = (v, ctx) => {
  const eq = v.indexOf('=');
  if (eq <= 0) return badValue(ctx, 'env', v, 'NAME=value (exported to children as HA_NAME)', `invalid nvpair(${v})`);
  ctx.cfg.env[`HA_${v.slice(0, eq)}`] = v.slice(eq + 1);
  return true;
};

export const setQuorumServer: Apply = (v, ctx) => {
  unimplemented(ctx, 'quorum_server', v, 'no quorum server will be consulted');
  return true;
};
