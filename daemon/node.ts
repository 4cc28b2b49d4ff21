/**
 * The real parts of a heartbeat node, gathered for lib/node/assemble.ts:
 * sockets and serial ports for media, the state files, resource scripts as
 * processes, /proc/loadavg, the system clock.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import type { AuthKeys, HaConfig, ResourceGroup } from '../lib/config/types.js';
import { createMedium } from '../lib/media/factory.js';
import type { Medium } from '../lib/media/medium.js';
import type { NodeParts } from '../lib/node/assemble.js';
import type { NodeHandle } from '../lib/node/runtime.js';
import { fileStateStore } from '../lib/membership/state-files.js';
import { systemClock } from '../lib/util/clock.js';
import { HbError, NODE_ERRORS } from '../lib/util/errors.js';
import type { Logger } from '../lib/util/log.js';
import type { Paths } from './paths.js';
import { realScripts, stopRetryMaxFromEnv, unstoppable } from './resources.js';
import { StonithCommandFencer } from './stonith.js';

/** What attachments receive (kept under this name for the daemon's attachments). */
export type HeartbeatNode = NodeHandle;

/** Interval of the rejected-packets summary (HA_REJECT_REPORT_SECONDS overrides, for tests and operators). */
const REJECT_REPORT_MS = Math.max(1, Number(process.env['HA_REJECT_REPORT_SECONDS'] ?? '60') || 60) * 1000;

/** /proc/loadavg is a few dozen bytes. */
const LOADAVG_MAX = 256;

/**
 * Reads /proc/loadavg (every sequenced message's `ld` field) with one
 * pread on a descriptor kept open, instead of open, stat, two reads and a
 * close each time: an idle daemon's cost is mostly its system calls.
 * After an error the file is opened afresh on the next call.
 */
export function loadavgReader(path = '/proc/loadavg'): () => string {
  let fd: number | undefined;
  const buf = Buffer.alloc(LOADAVG_MAX);
  return () => {
    try {
      fd ??= openSync(path, 'r');
      return buf.toString('latin1', 0, readSync(fd, buf, 0, LOADAVG_MAX, 0)).trim();
    } catch {
      if (fd !== undefined) {
        try {
          closeSync(fd);
        } catch { /* gone already */ }
        fd = undefined;
      }
      return 'n/a';
    }
  };
}

/**
 * Prefixes a medium's open failure with the ha.cf line that configured it:
 * an interface that does not exist is only found at start, and the operator
 * should not have to guess which of several media lines is wrong.
 */
function withOrigin(medium: Medium, origin: string): Medium {
  const open = medium.open.bind(medium);
  medium.open = async (onPacket, onError) => {
    try {
      await open(onPacket, onError);
    } catch (err) {
      const code = err instanceof HbError ? err.code : NODE_ERRORS.MEDIA_OPEN;
      throw new HbError(code, `${origin}: ${(err as Error).message}`, { cause: err });
    }
  };
  return medium;
}

export interface RealPartsInput {
  config: HaConfig;
  keys: AuthKeys;
  groups: ResourceGroup[];
  nodename: string;
  paths: Paths;
  log: Logger;
  /** v1 resource management (not with -M or a crm cluster). */
  manageResources: boolean;
  /** heartbeat-ts.cf `inprocess_ip` (default on). */
  inprocessIp?: boolean;
}

export function realParts(i: RealPartsInput): NodeParts {
  const { paths, log } = i;
  return {
    config: i.config,
    keys: i.keys,
    groups: i.groups,
    nodename: i.nodename,
    media: (config, signer) => config.media.map((m) =>
      withOrigin(createMedium(m, { udpport: config.udpport, signer }), `${paths.haDir}/ha.cf:${m.line}`)),
    clock: systemClock,
    log,
    store: fileStateStore(paths.stateDir),
    scripts: i.manageResources ? realScripts(i, systemClock) : undefined,
    loadavg: loadavgReader(),
    rejectReportMs: REJECT_REPORT_MS,
    stopRetryMax: stopRetryMaxFromEnv(),
    onUnstoppable: unstoppable(log),
    ...(i.config.stonith.length > 0 ? { fencer: new StonithCommandFencer(i.config.stonith, { log }) } : {}),
  };
}
