/**
 * Runs one health check of one real server with its deadline. A check
 * never throws: every failure (refused, reset, timeout, bad reply) is a
 * `down` outcome with the reason, and the deadline aborts the sockets or
 * processes it used so nothing is left behind.
 */
import { run } from '../exec.js';
import type { CheckType } from '../types.js';
import { checkDns } from './dns.js';
import { checkHttp } from './http.js';
import { CheckFailure } from './io.js';
import {
  checkConnect, checkFtp, checkImap, checkNntp, checkPop, checkSimpleTcp, checkSip, checkSmtp,
} from './protocols.js';
import type { CheckContext, CheckOutcome } from './types.js';

export type { CheckContext, CheckOutcome } from './types.js';

/** Services whose negotiate check heartbeat-ts does not implement. */
export const UNIMPLEMENTED_SERVICES = ['ldap', 'mysql', 'pgsql', 'oracle', 'radius'];

export async function negotiate(c: CheckContext, signal: AbortSignal): Promise<CheckOutcome> {
  switch (c.service) {
    case 'http': case 'https': case 'http_proxy': return checkHttp(c, signal);
    case 'pop': return checkPop(c, signal, false);
    case 'pops': return checkPop(c, signal, true);
    case 'imap': return checkImap(c, signal, false);
    case 'imaps': return checkImap(c, signal, true);
    case 'smtp': case 'submission': return checkSmtp(c, signal);
    case 'ftp': return checkFtp(c, signal);
    case 'nntp': return checkNntp(c, signal);
    case 'dns': return checkDns(c, signal);
    case 'sip': return checkSip(c, signal);
    case 'simpletcp': return checkSimpleTcp(c, signal);
    case 'none': return { up: true, message: 'service none: not checked' };
    default:
      return { up: false, message: `negotiate check for service ${c.service} is not implemented` };
  }
}

export async function ping(c: CheckContext, signal: AbortSignal): Promise<CheckOutcome> {
  for (let attempt = 1; attempt <= Math.max(1, c.checkcount); attempt++) {
    const res = await run('ping', ['-n', '-q', '-c', '1', '-W', String(Math.max(1, c.checktimeoutS)), c.host], {
      signal, timeoutMs: (c.checktimeoutS + 2) * 1000,
    });
    if (res.code === 0) return { up: true, message: `pong from ${c.host}` };
    if (signal.aborted) break;
  }
  return { up: false, message: `no ping reply from ${c.host}` };
}

/** checkcommand vip|fwmark vport rip rport; exit 0 means up. */
export async function external(c: CheckContext, signal: AbortSignal, perl: boolean): Promise<CheckOutcome> {
  const args = [c.virtualHost, String(c.virtualPort), c.host, String(c.realPort)];
  const res = perl
    ? await run('perl', [c.checkcommand, ...args], { signal, timeoutMs: c.checktimeoutS * 1000 + 1000 })
    : await run(c.checkcommand, args, { signal, timeoutMs: c.checktimeoutS * 1000 + 1000 });
  if (res.spawnError) return { up: false, message: `cannot run ${c.checkcommand}: ${res.spawnError}` };
  if (res.timedOut || signal.aborted) return { up: false, message: `${c.checkcommand} timed out` };
  return res.code === 0 ? { up: true, message: `${c.checkcommand} exited 0` } : { up: false, message: `${c.checkcommand} exited ${String(res.code)}` };
}

/** The check to run now for a check type (`combined` is decided by the caller). */
export type CheckKind = Exclude<CheckType, 'combined' | 'on' | 'off'>;

/**
 * Runs `kind` against `c`, aborting it after `timeoutMs`. Resolves with an
 * outcome in every case.
 */
export async function runCheck(kind: CheckKind, c: CheckContext, timeoutMs: number, outer?: AbortSignal): Promise<CheckOutcome> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  const onOuter = (): void => ac.abort();
  outer?.addEventListener('abort', onOuter, { once: true });
  try {
    const p = (async (): Promise<CheckOutcome> => {
      switch (kind) {
        case 'connect':
          // UDP has no connection to open: ldirectord pings UDP real servers.
          return c.protocol === 'udp' ? ping(c, ac.signal) : checkConnect(c, ac.signal);
        case 'negotiate': return negotiate(c, ac.signal);
        case 'ping': return ping(c, ac.signal);
        case 'external': return external(c, ac.signal, false);
        case 'external-perl': return external(c, ac.signal, true);
      }
    })();
    // The deadline wins even over code that forgot to watch the signal.
    const deadline = new Promise<CheckOutcome>((resolve) => {
      ac.signal.addEventListener('abort', () => resolve({ up: false, message: `timed out after ${timeoutMs / 1000}s` }), { once: true });
    });
    return await Promise.race([p, deadline]);
  } catch (e) {
    if (ac.signal.aborted) return { up: false, message: `timed out after ${timeoutMs / 1000}s` };
    return { up: false, message: e instanceof CheckFailure ? e.message : `check failed: ${(e as Error).message}` };
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', onOuter);
  }
}
