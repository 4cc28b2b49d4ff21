/**
 * Issue 17: text from the wire or a local client must never make a log line
 * of its own. Every sink (files, syslog, stderr) gets the escaped text.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogRoot, escapeLogText, formatLogLine, type LogSyslogWriter } from '../../../lib/util/log.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('escapeLogText', () => {
  it('leaves ordinary text (tabs, UTF-8, backslashes) byte for byte', () => {
    for (const t of ['Status update for node node2: status active', 'a\tb', 'nœud-ä', 'C:\\path']) expect(escapeLogText(t)).toBe(t);
  });
  it('makes controls visible', () => {
    expect(escapeLogText('x\nCRIT: forged\r\x00\x1b[31m\x7f\x85\u2028')).toBe('x\\nCRIT: forged\\r\\x00\\x1b[31m\\x7f\\x85\\u2028');
  });
});

describe('every log line is one line', () => {
  it('a node name with a newline cannot forge a CRIT line in ha-log, debug log or syslog', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hbts-logesc-'));
    dirs.push(dir);
    const sent: string[] = [];
    const syslog: LogSyslogWriter = { send: (_p, tag, msg) => void sent.push(`${tag} ${msg}`), close: () => undefined };
    const root = createLogRoot('heartbeat', {
      logfile: join(dir, 'ha-log'), debugfile: join(dir, 'ha-debug'), logfacility: 'local0', syslogmsgfmt: false, stderr: false, debugLevel: 1,
    }, { syslog });
    const name = 'evil\nheartbeat[1]: 2026/01/01_00:00:00 CRIT: Resource STOP failure. Reboot required!';
    root.logger.warn(`process_status_message: bad node [${name}] in message`);
    root.logger.script(`ResourceManager(${name})`).info('x\ny');
    for (const f of ['ha-log', 'ha-debug']) {
      const lines = readFileSync(join(dir, f), 'utf8').split('\n').filter((l) => l !== '');
      expect(lines).toHaveLength(2);
      expect(lines.some((l) => /^heartbeat\[1\]/.test(l))).toBe(false);
      expect(lines[0]).toContain('bad node [evil\\nheartbeat[1]: 2026/01/01_00:00:00 CRIT: Resource STOP failure');
    }
    for (const s of sent) expect(s).not.toMatch(/\n/);
    expect(formatLogLine({ syslogmsgfmt: true, host: 'h', entity: 'e\n', pid: 1, level: 'info', msg: 'a\nb', date: new Date(0) }).split('\n')).toHaveLength(2);
  });
});
