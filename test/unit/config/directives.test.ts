import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DIRECTIVES, findDirective } from '../../../lib/config/directives.js';
import { formatDefaults, formatProblem, hasErrors } from '../../../lib/config/problems.js';
import { errors, only, parse, parseWith, soleError } from './hacf-helpers.js';

const HEARTBEAT = '/usr/libexec/heartbeat/heartbeat';

/** Option directives that take any value. */
const FREE_TEXT = new Set(['cluster', 'node', 'watchdog', 'logfile', 'debugfile', 'coreroot', 'crm_daemon_dir', 'quorum_server']);

/** One rejected value per validating directive, and what the message must mention. */
const BAD: Record<string, [string, RegExp]> = {
  hopfudge: ['256', /\[256\].*0-255/],
  keepalive: ['0', /\[0\].*keepalive must be a time greater than 0/],
  deadtime: ['soon', /\[soon\].*deadtime must be a time/],
  deadping: ['1x', /\[1x\].*deadping must be a time/],
  initdead: ['-5', /\[-5\].*initdead must be a time/],
  warntime: ['0', /^Warn time \[0\] is invalid\. warntime must be a time greater than 0/],
  baud: ['1234', /^invalid baudrate \[1234\] specified\. baud must be one of 9600, 19200, 38400/],
  udpport: ['0', /^invalid port \[0\] specified\. udpport must be a port number 1-65535/],
  logfacility: ['Daemon', /^Log facility\(Daemon\) not valid: logfacility must be none or a syslog facility/],
  nice_failback: ['maybe', /nice_failback must be a boolean/],
  auto_failback: ['sometimes', /\[sometimes\].*on, off \(or another boolean\) or legacy/],
  rtprio: ['100', /^Illegal realtime priority \[100\]: rtprio must be an integer 1-99/],
  hbgenmethod: ['File', /^Illegal hb generation method \[File\]: hbgenmethod must be one of file, time/],
  realtime: ['maybe', /\[maybe\].*realtime must be a boolean/],
  debug: ['256', /\[256\].*debug must be an integer 0-255/],
  msgfmt: ['xml', /\[xml\].*msgfmt must be one of classic, netstring/],
  use_logd: ['perhaps', /\[perhaps\].*use_logd must be a boolean/],
  conn_logd_time: ['0', /\[0\].*conn_logd_time must be a time greater than 0/],
  use_apphbd: ['x', /\[x\].*use_apphbd must be a boolean/],
  log_badpack: ['x', /\[x\].*log_badpack must be a boolean/],
  syslogmsgfmt: ['x', /\[x\].*syslogmsgfmt must be a boolean/],
  coredumps: ['x', /\[x\].*coredumps must be a boolean/],
  crmd_spawns_pengine: ['x', /^Invalid directive value x: crmd_spawns_pengine must be a boolean/],
  crm: ['sure', /^Illegal value \[sure\] for crm: crm must be a boolean or one of respawn, minimal/],
  pacemaker: ['sure', /\[sure\].*pacemaker must be a boolean or one of/],
  autojoin: ['all', /^Invalid autojoin directive \[all\]: autojoin must be one of none, other, any/],
  uuidfrom: ['host', /^Invalid uuidfrom directive \[host\]: uuidfrom must be one of file, nodename/],
  compression: ['gzip', /\[gzip\].*compression must be one of zlib, bz2/],
  compression_threshold: ['0', /^compress_threshhold\(0\) invalid: compression_threshold must be an integer/],
  traditional_compression: ['x', /^Invalid directive value x: traditional_compression must be a boolean/],
  env: ['NOVALUE', /^invalid nvpair\(NOVALUE\): env must be NAME=value/],
  max_rexmit_delay: ['0', /^Invalid max_rexmit_delay time\(0\): max_rexmit_delay must be an integer number of milliseconds/],
  record_config_changes: ['x', /^Invalid directive value x: record_config_changes must be a boolean/],
  record_pengine_inputs: ['x', /record_pengine_inputs must be a boolean/],
  enable_config_writes: ['x', /enable_config_writes must be a boolean/],
  memreserve: ['-1', /\[-1\].*memreserve must be an integer number of KiB greater than 0/],
};

describe('directive table', () => {
  it('has a rejected-value test for every validating option directive', () => {
    const options = DIRECTIVES.filter((d) => d.kind === 'option').map((d) => d.name);
    expect(options.filter((n) => !FREE_TEXT.has(n) && !(n in BAD))).toEqual([]);
  });

  it.each(Object.entries(BAD))('%s rejects a bad value with a message naming it', (name, [value, re]) => {
    const p = parseWith(`${name} ${value}\n`);
    const e = soleError(p, 'HACF_BAD_VALUE', 6);
    expect(e.message).toMatch(re);
    expect(p.cfg.raw[name === 'crm' ? 'pacemaker' : name]).not.toBe(value);
  });

  it('applies every default through the directive itself and records it as heartbeat writes it', () => {
    const p = parse('node node1\nbcast eth0\n');
    for (const d of DIRECTIVES) {
      if (d.default !== undefined) expect(p.cfg.raw[d.name], d.name).toBe(d.default);
    }
  });

  it('is case-sensitive and knows the heartbeat names', () => {
    expect(findDirective('keepalive')?.kind).toBe('option');
    expect(findDirective('ucast')).toMatchObject({ kind: 'media', perToken: false });
    expect(findDirective('bcast')).toMatchObject({ kind: 'media', perToken: true });
    expect(findDirective('respawn')?.kind).toBe('whole-line');
    expect(findDirective('KeepAlive')).toBeUndefined();
    expect(findDirective('normalpoll')).toBeUndefined();
  });

  it('warns about numbers heartbeat reads with atoi, and uses atoi`s answer', () => {
    const p = parseWith('hopfudge 3x\n');
    expect(errors(p)).toEqual([]);
    expect(p.cfg.hopfudge).toBe(3);
    expect(only(p, 'HACF_LAX_NUMBER').message).toBe('hopfudge value [3x] is not a plain integer; heartbeat reads it as 3');
  });

  it('rejects a second baud and a second watchdog', () => {
    expect(soleError(parseWith('baud 9600\nbaud 19200\n'), 'HACF_DUPLICATE', 7).message).toMatch(/^Baudrate multiply specified\./);
    expect(soleError(parseWith('watchdog /dev/watchdog\nwatchdog /dev/wd1\n'), 'HACF_DUPLICATE', 7).message)
      .toMatch(/^Watchdog device multiply specified\./);
  });

  it('rejects a second pacemaker/crm line and pacemaker-only directives after it', () => {
    expect(soleError(parseWith('crm no\npacemaker no\n'), 'HACF_DUPLICATE', 7).message).toBe('pacemaker/crm directive used multiple times!');
    expect(soleError(parseWith('crm no\ncrm_daemon_dir /x\n'), 'HACF_ORDER', 7).message)
      .toBe('If you specify /x, it must come before the pacemaker directive');
  });

  it('records crm as pacemaker and turns v1 resource management off with a warning', () => {
    const p = parseWith('crm respawn\n');
    expect(p.cfg.crm).toBe(true);
    expect(p.cfg.raw['pacemaker']).toBe('respawn');
    expect(p.cfg.raw['crm']).toBeUndefined();
    expect(only(p, 'HACF_UNIMPLEMENTED').line).toBe(6);
    expect(p.cfg.unimplemented).toEqual([{ directive: 'crm', value: 'respawn', line: 6 }]);
  });

  it('notes ignored directives with an info and still records them', () => {
    const p = parseWith('coredumps off\nconn_logd_time 30\n');
    expect(p.problems.filter((x) => x.code === 'HACF_IGNORED').map((x) => [x.line, x.severity])).toEqual([[6, 'info'], [7, 'info']]);
    expect(p.cfg.raw).toMatchObject({ coredumps: 'off', conn_logd_time: '30' });
  });

  it('records the realtime knobs and the watchdog device', () => {
    const p = parseWith('rtprio 50\nmemreserve 100\nrealtime off\nwatchdog /dev/watchdog\n');
    expect(errors(p)).toEqual([]);
    expect(p.cfg).toMatchObject({ rtprio: 50, memreserveKb: 100, realtime: false, watchdog: '/dev/watchdog' });
    expect(p.cfg.raw).toMatchObject({ rtprio: '50', memreserve: '100' });
  });

  it('reads env, respawn and apiauth lines', () => {
    const p = parseWith('env FOO=a=b\nrespawn hacluster /usr/lib/heartbeat/ipfail -x  y\napiauth ipfail uid=hacluster,root gid=haclient\n');
    expect(errors(p)).toEqual([]);
    expect(p.cfg.env).toEqual({ HA_FOO: 'a=b' });
    expect(p.cfg.respawn).toEqual([{
      user: 'hacluster', command: '/usr/lib/heartbeat/ipfail', args: ['-x', 'y'],
      commandLine: '/usr/lib/heartbeat/ipfail -x  y', line: 7,
    }]);
    expect(p.cfg.apiauth.find((a) => a.client === 'ipfail')).toEqual({ client: 'ipfail', uids: ['hacluster', 'root'], gids: ['haclient'], line: 8 });
    expect(p.cfg.apiauth.map((a) => a.client).sort()).toEqual(['anon', 'ccm', 'ipfail', 'lha-snmpagent', 'ping']);
    expect(p.cfg.apiauth.find((a) => a.client === 'anon')).toEqual({ client: 'anon', uids: ['root'], gids: ['haclient'], line: 0 });
  });

  it('rejects bad respawn and apiauth lines', () => {
    expect(soleError(parseWith('respawn hacluster ipfail\n'), 'HACF_BAD_VALUE', 6).message).toMatch(/^Client child command \[ipfail\] is not full pathname/);
    expect(soleError(parseWith('respawn\n'), 'HACF_BAD_VALUE', 6).message).toMatch(/respawn needs a user and a command/);
    expect(soleError(parseWith('apiauth foo\n'), 'HACF_BAD_VALUE', 6).message).toMatch(/^Invalid apiauth directive \[foo\]/);
    expect(soleError(parseWith('apiauth foo uid=a uid=b\n'), 'HACF_BAD_VALUE', 6).message).toContain('Duplicate uid list in apiauth');
    expect(soleError(parseWith('apiauth foo user=a\n'), 'HACF_BAD_VALUE', 6).message).toContain('Missing uid or gid in apiauth');
    expect(soleError(parseWith('apiauth foo uid=a\napiauth foo gid=b\n'), 'HACF_BAD_VALUE', 7).message)
      .toContain('Duplicate apiauth directive for API client foo');
  });
});

describe('problem formatting', () => {
  it('formats FILE:LINE: severity: MESSAGE and omits line 0', () => {
    expect(formatProblem({ file: '/etc/ha.d/ha.cf', line: 7, severity: 'error', code: 'X', message: 'boom' }))
      .toBe('/etc/ha.d/ha.cf:7: error: boom');
    expect(formatProblem({ file: '/etc/ha.d/ha.cf', line: 0, severity: 'warning', code: 'X', message: 'hm' }))
      .toBe('/etc/ha.d/ha.cf: warning: hm');
    expect(formatProblem({ file: 'f', line: 1, severity: 'info', code: 'X', message: 'fyi' })).toBe('f:1: info: fyi');
  });

  it('hasErrors only counts errors', () => {
    const p = { file: 'f', line: 0, code: 'X', message: 'm' };
    expect(hasErrors([{ ...p, severity: 'warning' }, { ...p, severity: 'info' }])).toBe(false);
    expect(hasErrors([{ ...p, severity: 'warning' }, { ...p, severity: 'error' }])).toBe(true);
  });
});

describe('formatDefaults', () => {
  it('prints exactly what the real `heartbeat -D` prints', () => {
    if (!existsSync(HEARTBEAT)) {
      throw new Error(`${HEARTBEAT} is missing: install Debian's heartbeat 3.0.6 package (the project scripts do) to run this test`);
    }
    const real = spawnSync(HEARTBEAT, ['-D'], { encoding: 'utf8' });
    expect(real.status).toBe(0);
    expect(formatDefaults()).toBe(real.stdout);
  });

  it('lists one line per directive with a default, under a header and a rule', () => {
    const lines = formatDefaults().split('\n');
    expect(lines[0]).toMatch(/^Directive {16}Default {3}Description$/);
    expect(lines[1]).toBe('-'.repeat(80));
    expect(lines).toContain('keepalive                1000ms    keepalive time');
    expect(lines.length - 3).toBe(DIRECTIVES.filter((d) => d.default !== undefined).length);
  });
});
