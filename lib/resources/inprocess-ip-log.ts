/**
 * The lines resource.d/hb-functions.sh's hb_log writes, written by the
 * in-process IPaddr path so the logs read the same whichever path ran:
 * HA_LOGFILE `<date>  Tag(instance)[pid]:    INFO: text`, HA_DEBUGLOG
 * `Tag(instance)[pid]:<TAB><date> INFO: text`, syslog as logger(1) with
 * HA_LOGFACILITY, and the script's stderr when it has neither.
 */
import { appendFileSync } from 'node:fs';
import { escapeLogText, haDate, SYSLOG_FACILITIES } from '../util/log.js';
import type { SyslogWriter } from '../util/syslog.js';
import type { ScriptLogLevel } from './inprocess-ip-ops.js';

const WORDS: Record<ScriptLogLevel, string> = { info: 'INFO', warn: 'WARNING', err: 'ERROR' };
const SEVERITY: Record<ScriptLogLevel, number> = { info: 6, warn: 4, err: 3 };

export interface ScriptLineSinks {
  /** The script's environment (HA_LOGFILE, HA_DEBUGLOG, HA_LOGFACILITY). */
  env: Record<string, string | undefined>;
  /** Opened on the first syslog line only. */
  syslog: () => SyslogWriter;
  now: () => Date;
}

function append(file: string, text: string): void {
  try { appendFileSync(file, text, { mode: 0o644 }); } catch { /* as the script's `2>/dev/null` */ }
}

/**
 * A line writer for one run with tag `Script(instance)[pid]`; what would
 * have gone to the script's stderr is added to `stderr`.
 */
export function scriptLineWriter(s: ScriptLineSinks, tag: string, stderr: string[]): (level: ScriptLogLevel, text: string) => void {
  return (level, raw) => {
    const text = `${WORDS[level]}: ${escapeLogText(raw)}`;
    const date = haDate(s.now());
    const logfile = s.env['HA_LOGFILE'] ?? '';
    const debuglog = s.env['HA_DEBUGLOG'] ?? '';
    let facility = s.env['HA_LOGFACILITY'] ?? '';
    if (facility === 'none') facility = '';
    const fac = SYSLOG_FACILITIES[facility];
    if (fac !== undefined) s.syslog().send(fac * 8 + SEVERITY[level], tag, text);
    if (logfile !== '') append(logfile, `${date}  ${tag}:    ${text}\n`);
    if (debuglog !== '' && debuglog !== logfile) append(debuglog, `${tag}:\t${date} ${text}\n`);
    if (facility === '' && logfile === '') stderr.push(`${date}  ${tag}:    ${text}\n`);
  };
}
