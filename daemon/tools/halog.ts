/**
 * `ha_log` for the tools: one line to the logs ha.cf names (logfile,
 * debugfile, logfacility through lib/util/syslog.ts), in heartbeat's log layout. When
 * heartbeat runs a tool, the environment it gives (HA_LOGFILE, HA_DEBUGLOG,
 * HA_LOGFACILITY) wins, as in the shell helpers. With no log configured the
 * line goes to stderr prefixed with the date, as the shell ha_log does.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseHaCf } from '../../lib/config/hacf.js';
import { nodeName } from '../../lib/config/load.js';
import { createLogRoot, syslogDate, type LogLevel, type LogSinkConfig } from '../../lib/util/log.js';
import { resolvePaths } from '../paths.js';
import type { ToolIO } from './common.js';

function sinks(env: NodeJS.ProcessEnv): Pick<LogSinkConfig, 'logfile' | 'debugfile' | 'logfacility' | 'syslogmsgfmt'> {
  const set = (k: string): string | undefined => (env[k] !== undefined && env[k] !== '' ? env[k] : undefined);
  let fromCf: ReturnType<typeof parseHaCf>['value'];
  try {
    const haDir = resolvePaths(env).haDir;
    fromCf = parseHaCf(readFileSync(join(haDir, 'ha.cf'), 'utf8'), { file: 'ha.cf', nodename: nodeName(haDir) }).value;
  } catch {
    fromCf = undefined;
  }
  const facility = set('HA_LOGFACILITY') ?? fromCf?.logfacility;
  return {
    logfile: set('HA_LOGFILE') ?? fromCf?.logfile,
    debugfile: set('HA_DEBUGLOG') ?? fromCf?.debugfile,
    logfacility: facility === 'none' ? undefined : facility,
    syslogmsgfmt: fromCf?.syslogmsgfmt ?? true,
  };
}

export function haLog(entity: string, level: LogLevel, msg: string, io: ToolIO, env: NodeJS.ProcessEnv = process.env): void {
  const s = sinks(env);
  // /dev/null is what heartbeat records for "no file": nothing would be kept.
  const useful = (p: string | undefined): string | undefined => (p === '/dev/null' ? undefined : p);
  const cfg: LogSinkConfig = { ...s, logfile: useful(s.logfile), debugfile: useful(s.debugfile), stderr: false, debugLevel: 0 };
  if (cfg.logfile === undefined && cfg.debugfile === undefined && cfg.logfacility === undefined) {
    io.err(`${syslogDate(new Date())} ${msg}\n`);
    return;
  }
  const root = createLogRoot(entity, cfg);
  root.logger.log(level, msg);
  root.close();
}
