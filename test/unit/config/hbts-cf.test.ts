import { mkdtempSync, rmSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkHbtsAgainstGroups, EMPTY_HBTS_CONFIG, MONITOR_DEFAULTS, parseExtTime, parseHbtsCf } from '../../../lib/config/hbts-cf.js';
import { loadConfiguration } from '../../../lib/config/load.js';

const FILE = '/etc/ha.d/heartbeat-ts.cf';
const parse = (text: string) => parseHbtsCf(text, { file: FILE });

describe('heartbeat-ts.cf times', () => {
  it.each([
    ['2', 2000], ['1.5', 1500], ['500ms', 500], ['1s', 1000], ['2min', 120_000], ['0.25 s', 250], ['10MS', 10],
  ])('%s is %d ms', (text, ms) => expect(parseExtTime(text)).toBe(ms));
  it.each(['', 'x', '-1', '1h', '1.2.3', '2 min 3', '90000000', '1e3'])('%s is refused', (text) => {
    expect(parseExtTime(text)).toBeUndefined();
  });
});

describe('heartbeat-ts.cf parser', () => {
  it('reads monitor, quorum and http_listen with comments and blank lines', () => {
    const r = parse('# sample\n\nmonitor IPaddr::10.0.0.9/24 interval=2s timeout=500ms on-fail=standby max-failures=2 failure-window=5min\n'
      + 'monitor httpd interval=1.5  # trailing comment\nquorum majority\nhttp_listen [::1]:9694\n');
    expect(r.problems).toEqual([]);
    expect(r.value?.monitors).toEqual([
      { resource: 'IPaddr::10.0.0.9/24', intervalMs: 2000, timeoutMs: 500, onFail: 'standby', maxFailures: 2, failureWindowMs: 300_000, line: 3 },
      { resource: 'httpd', intervalMs: 1500, ...MONITOR_DEFAULTS, line: 4 },
    ]);
    expect(r.value?.quorum).toBe('majority');
    expect(r.value?.httpListen).toEqual({ host: '::1', port: 9694, line: 6 });
    expect(r.value?.present).toBe(true);
  });

  it.each([
    ['frobnicate on', 'HBTS_UNKNOWN_DIRECTIVE'],
    ['monitor httpd', 'HBTS_MISSING_OPTION'],
    ['monitor httpd interval=soon', 'HBTS_BAD_TIME'],
    ['monitor httpd interval=10ms', 'HBTS_BAD_TIME'],
    ['monitor httpd interval=1 colour=red', 'HBTS_UNKNOWN_OPTION'],
    ['monitor httpd interval=1 on-fail=reboot', 'HBTS_BAD_VALUE'],
    ['monitor httpd interval=1 max-failures=0', 'HBTS_BAD_VALUE'],
    ['monitor httpd interval=1 interval=2', 'HBTS_BAD_OPTION'],
    ['monitor httpd interval=1 stray', 'HBTS_BAD_OPTION'],
    ['monitor', 'HBTS_BAD_ARGUMENTS'],
    ['quorum sometimes', 'HBTS_BAD_VALUE'],
    ['quorum majority extra', 'HBTS_BAD_ARGUMENTS'],
    ['http_listen localhost:80', 'HBTS_BAD_VALUE'],
    ['http_listen 127.0.0.1:70000', 'HBTS_BAD_VALUE'],
    ['http_listen 300.0.0.1:80', 'HBTS_BAD_VALUE'],
    ['inprocess_ip no', 'HBTS_BAD_VALUE'],
    ['fast_start maybe', 'HBTS_BAD_VALUE'],
    ['inprocess_ip off now', 'HBTS_BAD_ARGUMENTS'],
    [`monitor ${'x'.repeat(5000)} interval=1`, 'HBTS_LINE_TOO_LONG'],
  ])('%s → %s at line 2', (line, code) => {
    const r = parse(`# header\n${line}\n`);
    expect(r.problems.map((p) => [p.code, p.line, p.file, p.severity])).toEqual([[code, 2, FILE, 'error']]);
  });

  it('warns when http_listen is not on loopback (no authentication)', () => {
    expect(parse('http_listen 127.0.0.2:9694\n').problems).toEqual([]);
    const r = parse('# lan\nhttp_listen 10.0.0.1:9694\n');
    expect(r.problems.map((p) => [p.code, p.line, p.severity])).toEqual([['HBTS_HTTP_EXPOSED', 2, 'warning']]);
    expect(r.value?.httpListen).toEqual({ host: '10.0.0.1', port: 9694, line: 2 });
  });

  it('fast_start: on once the file exists, off when said; off without the file', () => {
    expect(parse('# nothing else\n').value?.fastStart).toBe(true);
    expect(parse('fast_start off\n').value?.fastStart).toBe(false);
    expect(EMPTY_HBTS_CONFIG.fastStart).toBe(false);
  });

  it('inprocess_ip: on unless turned off', () => {
    expect(parse('quorum off\n').value?.inprocessIp).toBe(true);
    expect(parse('inprocess_ip off\n').value?.inprocessIp).toBe(false);
    expect(parse('inprocess_ip on\n').value?.inprocessIp).toBe(true);
  });

  it('refuses a second quorum line and a second monitor of one resource', () => {
    const r = parse('quorum off\nquorum majority\nmonitor a interval=1\nmonitor a interval=2\n');
    expect(r.problems.map((p) => [p.code, p.line])).toEqual([['HBTS_DUPLICATE', 2], ['HBTS_DUPLICATE', 4]]);
  });

  it('escapes control characters in messages', () => {
    const r = parse('bad\x1b[31m on\n');
    expect(r.problems[0]?.message).toContain('\\x1b');
    expect(r.problems[0]?.message).not.toContain('\x1b');
  });

  it('checks monitored resources against haresources as written', () => {
    const cfg = parse('monitor IPaddr::10.0.0.9 interval=1\nmonitor 10.0.0.9 interval=1\n').value!;
    const groups = [{ node: 'n1', key: 'IPaddr::10.0.0.9', line: 1, resources: [{ script: 'IPaddr', args: ['10.0.0.9'], spec: 'IPaddr::10.0.0.9' }] }];
    expect(checkHbtsAgainstGroups(cfg, groups, FILE).map((p) => [p.code, p.line])).toEqual([['HBTS_UNKNOWN_RESOURCE', 2]]);
  });
});

describe('loadConfiguration and heartbeat-ts.cf', () => {
  const made: string[] = [];
  afterEach(() => { for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true }); });
  function dir(hbts?: string): string {
    const d = mkdtempSync(join(tmpdir(), `hbts-${process.pid}-`));
    made.push(d);
    writeFileSync(join(d, 'ha.cf'), 'node node1 node2\nbcast eth0\nauto_failback on\nlogfile /dev/null\nuse_logd no\n');
    writeFileSync(join(d, 'authkeys'), 'auth 1\n1 sha1 secret\n');
    chmodSync(join(d, 'authkeys'), 0o600);
    writeFileSync(join(d, 'haresources'), 'node1 10.0.0.9 web\n');
    mkdirSync(join(d, 'resource.d'));
    for (const s of ['IPaddr', 'web']) {
      writeFileSync(join(d, 'resource.d', s), '#!/bin/sh\nexit 0\n');
      chmodSync(join(d, 'resource.d', s), 0o755);
    }
    if (hbts !== undefined) writeFileSync(join(d, 'heartbeat-ts.cf'), hbts);
    return d;
  }
  const load = (d: string) => loadConfiguration({ haDir: d, nodename: 'node1', resourceDirs: [join(d, 'resource.d')] });

  it('without the file: present=false, no problem', () => {
    const r = load(dir());
    expect(r.ok).toBe(true);
    expect(r.hbts.present).toBe(false);
    expect(r.hbts.monitors).toEqual([]);
  });
  it('with the file: parsed and checked against haresources', () => {
    const r = load(dir('monitor web interval=1\nmonitor httpd interval=1\n'));
    expect(r.ok).toBe(false);
    expect(r.problems.filter((p) => p.severity === 'error').map((p) => [p.code, p.line])).toEqual([['HBTS_UNKNOWN_RESOURCE', 2]]);
    expect(r.hbts.monitors.map((m) => m.resource)).toEqual(['web', 'httpd']);
  });
});
