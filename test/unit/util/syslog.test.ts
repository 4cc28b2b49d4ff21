import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogRoot, type LogSyslogWriter } from '../../../lib/util/log.js';
import { createSyslogWriter, formatSyslog, syslogTimestamp } from '../../../lib/util/syslog.js';

const at = new Date(2026, 11, 3, 7, 0, 9);

function recorder(): LogSyslogWriter & { sent: Array<[number, string, string]> } {
  const sent: Array<[number, string, string]> = [];
  return { sent, send: (p, i, b) => void sent.push([p, i, b]), close: () => undefined };
}

describe('syslog datagrams in the layout of glibc syslog(3)', () => {
  it('space-pads the day and has no host name', () => {
    expect(syslogTimestamp(at)).toBe('Dec  3 07:00:09');
    expect(syslogTimestamp(new Date(2026, 0, 23, 23, 59, 0))).toBe('Jan 23 23:59:00');
    expect(formatSyslog(134, 'heartbeat', '[1234]: info: up\u0000', at).toString('latin1')).toBe('<134>Dec  3 07:00:09 heartbeat: [1234]: info: up\u0000');
  });

  it('a missing /dev/log drops lines silently and counts them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hb-syslog-'));
    const warnings: string[] = [];
    try {
      const w = createSyslogWriter({ path: join(dir, 'log'), warn: (l) => warnings.push(l) });
      w.send(134, 'heartbeat', 'x');
      w.send(134, 'heartbeat', 'y');
      expect(w.dropped).toBe(2);
      expect(warnings).toEqual([]);
      w.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the logger sends to syslog as 3.0.6 processes do', () => {
  it('heartbeat: facility*8+severity, ident heartbeat, `[pid]: LEVEL: text` with cl_log\'s NUL; debug lines when written', () => {
    const sys = recorder();
    const root = createLogRoot('heartbeat', { logfacility: 'local0', syslogmsgfmt: true, stderr: false, debugLevel: 1 }, { syslog: sys, now: () => at });
    root.logger.info('Link node1:eth0 up.');
    root.logger.warn('Late heartbeat');
    root.logger.error('bad');
    root.logger.debug('written at debug 1');
    root.logger.child('ipfail', 77).info('Giving up');
    expect(sys.sent).toEqual([
      [134, 'heartbeat', `[${process.pid}]: info: Link node1:eth0 up.\u0000`],
      [132, 'heartbeat', `[${process.pid}]: WARN: Late heartbeat\u0000`],
      [131, 'heartbeat', `[${process.pid}]: ERROR: bad\u0000`],
      [135, 'heartbeat', `[${process.pid}]: debug: written at debug 1\u0000`],
      [134, 'ipfail', '[77]: info: Giving up\u0000'],
    ]);
    root.close();
  });

  it('no facility (logfacility none): nothing; a reload that sets one starts sending', () => {
    const sys = recorder();
    const root = createLogRoot('heartbeat', { syslogmsgfmt: true, stderr: false, debugLevel: 0 }, { syslog: sys });
    root.logger.info('quiet');
    expect(sys.sent).toEqual([]);
    root.reconfigure({ logfacility: 'daemon', syslogmsgfmt: true, stderr: false, debugLevel: 0 });
    root.logger.notice('loud');
    expect(sys.sent).toEqual([[29, 'heartbeat', `[${process.pid}]: notice: loud\u0000`]]);
  });

  it('ldirectord layout: `ldirectord[pid]: text`; resource-script lines as logger(1) from ha_log: `Tag[pid]: info: text`', () => {
    const sys = recorder();
    const ld = createLogRoot('ldirectord', { logfacility: 'local1', syslogLayout: 'ident_pid', syslogmsgfmt: false, stderr: false, debugLevel: 0 }, { syslog: sys });
    ld.logger.info('Starting Linux Director');
    const hb = createLogRoot('heartbeat', { logfacility: 'local0', syslogmsgfmt: true, stderr: false, debugLevel: 0 }, { syslog: sys });
    hb.logger.script('ResourceManager(default)', 42).info('Running /etc/ha.d/resource.d/IPaddr start');
    expect(sys.sent).toEqual([
      [142, `ldirectord[${process.pid}]`, 'Starting Linux Director'],
      [133, 'ResourceManager(default)[42]', 'info: Running /etc/ha.d/resource.d/IPaddr start'],
    ]);
    // ha_log's guess from the text: ERROR -> err, WARN -> warning, else notice
    hb.logger.script('ResourceManager(default)', 42).error('Return code 1 from /etc/init.d/x');
    hb.logger.script('mach_down(default)', 43).warn('x');
    expect(sys.sent.slice(2).map(([p]) => p)).toEqual([131, 132]);
  });
});

describe('a busy syslog (its queue full) loses nothing and keeps the order', () => {
  it('lines wait in the backlog and are sent once the reader drains', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hb-syslog-'));
    const sock = join(dir, 'log');
    // A reader that binds, then reads only when told to: the kernel queue (max_dgram_qlen) fills first.
    const py = spawn('/usr/bin/python3', ['-c', [
      'import socket, sys',
      's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
      `s.bind(${JSON.stringify(sock)})`,
      'print("ready", flush=True)',
      'sys.stdin.readline()',
      's.settimeout(2)',
      'try:',
      '    while True: print(s.recv(4096).decode(), flush=True)',
      'except socket.timeout: pass',
    ].join('\n')], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    py.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    const exited = new Promise((r) => py.once('exit', r));
    try {
      while (!out.startsWith('ready')) await new Promise((r) => setTimeout(r, 20));
      const w = createSyslogWriter({ path: sock, now: () => at });
      for (let i = 0; i < 60; i++) w.send(134, 'heartbeat', `line ${i}`);
      py.stdin.write('go\n');
      await exited;
      const got = out.split('\n').slice(1).filter((l) => l !== '');
      expect(got).toEqual(Array.from({ length: 60 }, (_, i) => `<134>Dec  3 07:00:09 heartbeat: line ${i}`));
      expect(w.dropped).toBe(0);
      w.close();
    } finally {
      py.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 20_000);
});
