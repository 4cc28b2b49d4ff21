import { describe, expect, it } from 'vitest';
import { BASE, BASE_LINES, errors, FILE, only, parse, parseWith, soleError } from './hacf-helpers.js';

describe('ha.cf lexical rules', () => {
  it('accepts the base file without errors', () => {
    const p = parse(BASE);
    expect(errors(p)).toEqual([]);
    expect(p.cfg.nodes).toEqual(['node1', 'node2']);
    expect(p.cfg.media).toEqual([{ kind: 'bcast', iface: 'eth0', port: 694, line: 2 }]);
  });

  it('splits option values on blanks, tabs and commas and lowercases node names', () => {
    const p = parse('node Node1,NODE2\tnode3 , node4\nbcast eth0,eth1 eth2\n');
    expect(p.cfg.nodes).toEqual(['node1', 'node2', 'node3', 'node4']);
    expect(p.cfg.media.map((m) => (m.kind === 'bcast' ? m.iface : ''))).toEqual(['eth0', 'eth1', 'eth2']);
  });

  it('strips comments anywhere, leading blanks, CR and blank lines', () => {
    const p = parseWith('  # a comment line\n\n   \nkeepalive 3 # trailing\ndeadtime 40#glued\r\nwarntime\t5\r\n');
    expect(errors(p)).toEqual([]);
    expect(p.cfg.keepaliveMs).toBe(3000);
    expect(p.cfg.deadtimeMs).toBe(40000);
    expect(p.cfg.warntimeMs).toBe(5000);
    expect(p.cfg.raw).toMatchObject({ keepalive: '3', deadtime: '40', warntime: '5' });
  });

  it('keeps the last value of a single-valued option', () => {
    const p = parseWith('keepalive 1 3,2\n');
    expect(p.cfg.keepaliveMs).toBe(2000);
    expect(p.cfg.raw['keepalive']).toBe('2');
  });

  it('gives whole-line directives the rest of the line, commas included', () => {
    const ok = parseWith('ucast eth0 10.0.0.2\n');
    expect(ok.cfg.media[1]).toEqual({ kind: 'ucast', iface: 'eth0', peer: '10.0.0.2', port: 694, line: 6 });
    const glued = parseWith('ucast eth0,10.0.0.2\n');
    expect(soleError(glued, 'HACF_BAD_MEDIA', 6).message).toBe(
      'ucast: [eth0,10.0.0.2] missing target IP address/hostname: use ucast <interface> <peer address>');
  });

  it('matches directive names exactly (case-sensitive) and reports unknown ones with the file', () => {
    const p = parseWith('Keepalive 2\nfrobnicate yes\n');
    const errs = errors(p);
    expect(errs.map((e) => [e.code, e.line, e.message])).toEqual([
      ['HACF_UNKNOWN_DIRECTIVE', 6, `Illegal directive [Keepalive] in ${FILE}`],
      ['HACF_UNKNOWN_DIRECTIVE', 7, `Illegal directive [frobnicate] in ${FILE}`],
    ]);
  });

  it('treats a comma right after the directive name as part of the name', () => {
    const p = parseWith('keepalive,2\n');
    expect(soleError(p, 'HACF_UNKNOWN_DIRECTIVE', 6).message).toContain('[keepalive,2]');
  });

  it('maps the old udp directive to bcast with a warning', () => {
    const p = parse('node node1\nudp eth1\nauto_failback on\n');
    expect(p.cfg.media).toEqual([{ kind: 'bcast', iface: 'eth1', port: 694, line: 2 }]);
    expect(only(p, 'HACF_UDP_ALIAS')).toMatchObject({ line: 2, severity: 'warning' });
  });

  it('warns about an option written without a value', () => {
    const p = parseWith('keepalive\n');
    expect(only(p, 'HACF_NO_VALUE')).toMatchObject({ line: 6, severity: 'warning' });
    expect(p.cfg.keepaliveMs).toBe(1000);
  });

  it('rejects a line heartbeat would cut in two', () => {
    const p = parseWith(`cluster ${'x'.repeat(6000)}\n`);
    expect(soleError(p, 'HACF_LINE_TOO_LONG', 6)).toBeTruthy();
  });

  it('uses the nodename option lowercased', () => {
    expect(errors(parse(BASE, { nodename: 'NODE2' }))).toEqual([]);
  });
});

describe('ha.cf defaults and derived values', () => {
  it('fills every default and the derived times of spec 5.1', () => {
    const p = parse('node node1\nbcast eth0\n');
    expect(p.cfg).toMatchObject({
      keepaliveMs: 1000, deadtimeMs: 30000, warntimeMs: 15000, initdeadMs: 30000, deadpingMs: 30000,
      hopfudge: 1, udpport: 694, baud: 19200, autoFailback: 'legacy', useLogd: true, syslogmsgfmt: true,
      logBadpack: true, debug: 0, realtime: true, coredumps: true, hbgenmethod: 'file', uuidfrom: 'file',
      autojoin: 'none', msgfmt: 'classic', maxRexmitDelayMs: 250, cluster: 'linux-ha', crm: false,
      logfile: undefined, debugfile: undefined, logfacility: undefined, localNode: 'node1',
    });
    expect(p.cfg.raw).toEqual({
      cluster: 'linux-ha', hopfudge: '1', keepalive: '1000ms', deadtime: '30000ms', baud: '19200',
      auto_failback: 'legacy', hbgenmethod: 'file', realtime: 'true', msgfmt: 'classic', conn_logd_time: '60',
      log_badpack: 'true', syslogmsgfmt: 'true', coredumps: 'true', pacemaker: 'false', autojoin: 'none',
      uuidfrom: 'file', compression: 'zlib', compression_threshold: '2', traditional_compression: 'no',
      max_rexmit_delay: '250', record_config_changes: 'on', record_pengine_inputs: 'on', enable_config_writes: 'on',
      memreserve: '6500', debug: '0', warntime: '15000ms', initdead: '30000ms', deadping: '30000ms',
      udpport: '694', use_logd: 'yes', hbversion: '3.0.6',
    });
    expect(only(p, 'HACF_LOGD_IMPLIED')).toMatchObject({ severity: 'info', line: 0 });
  });

  it.each([
    ['5', 12000], ['5.9', 12000], ['6', 12000], ['8', 16000], ['10', 20000], ['10.001', 10001], ['11', 11000],
  ])('initdead defaults from deadtime %s to %i ms', (dt, initdead) => {
    const p = parseWith(`deadtime ${dt}\n`);
    expect(p.cfg.initdeadMs).toBe(initdead);
    expect(p.cfg.raw['initdead']).toBe(`${initdead}ms`);
  });

  it('derives warntime and deadping from deadtime and keeps written values as written', () => {
    const p = parseWith('deadtime 0.5\nkeepalive 100ms\n');
    expect(p.cfg.warntimeMs).toBe(250);
    expect(p.cfg.deadpingMs).toBe(500);
    expect(p.cfg.raw).toMatchObject({ deadtime: '0.5', keepalive: '100ms', warntime: '250ms', deadping: '500ms' });
  });

  it('takes the default port from the ha-cluster entry of /etc/services', () => {
    const p = parse(BASE, { services: new Map([['ha-cluster', 6940]]) });
    expect(p.cfg.udpport).toBe(6940);
    expect(p.cfg.raw['udpport']).toBe('6940');
    expect(p.cfg.media[0]).toMatchObject({ kind: 'bcast', port: 6940 });
  });

  it('records use_logd and /dev/null log files the way heartbeat does with syslog only', () => {
    const p = parse('node node1\nbcast eth0\nlogfacility daemon\n');
    expect(p.cfg.logfacility).toBe('daemon');
    expect(p.cfg.raw).toMatchObject({ logfacility: 'daemon', logfile: '/dev/null', debugfile: '/dev/null' });
    expect(p.cfg.logfile).toBeUndefined();
    expect(only(p, 'HACF_LOGD_DISABLED').message).toBe('Logging daemon is disabled --enabling logging daemon is recommended');
  });
});

describe('ha.cf timing checks', () => {
  it('rejects deadtime <= 2 x keepalive at the deadtime line', () => {
    const p = parseWith('keepalive 2\ndeadtime 4\n');
    expect(soleError(p, 'HACF_DEADTIME_TOO_SMALL', 7).message)
      .toBe('Dead time [4000] is too small compared to keeplive [2000]: deadtime must be more than twice keepalive');
  });

  it('points at keepalive when only keepalive was written', () => {
    soleError(parseWith('keepalive 20\n'), 'HACF_DEADTIME_TOO_SMALL', 6);
  });

  it('rejects initdead < deadtime and warns below 10 s', () => {
    const p = parseWith('deadtime 30\ninitdead 20\n');
    expect(soleError(p, 'HACF_INITDEAD_TOO_SMALL', 7).message).toContain('Initial dead time [20000] is smaller than deadtime [30000]');
    const q = parseWith('deadtime 5\ninitdead 8\n');
    expect(errors(q)).toEqual([]);
    expect(only(q, 'HACF_INITDEAD_SHORT')).toMatchObject({ line: 7, severity: 'warning' });
    expect(only(q, 'HACF_INITDEAD_SHORT').message).toMatch(/^Initial dead time \[8000 ms\] may be too small!/);
  });

  it('rejects deadping <= 2 x keepalive', () => {
    const p = parseWith('keepalive 2\ndeadping 4\n');
    expect(soleError(p, 'HACF_DEADPING_TOO_SMALL', 7).message).toContain('Ping dead time [4000] is too small compared to keeplive [2000]');
  });

  it('warns when warntime is not between keepalive and deadtime, saying so', () => {
    for (const w of ['1', '2', '30', '45']) {
      const p = parseWith(`keepalive 2\ndeadtime 30\nwarntime ${w}\n`);
      expect(errors(p)).toEqual([]);
      const warn = only(p, 'HACF_WARNTIME_RANGE');
      expect(warn).toMatchObject({ line: 8, severity: 'warning' });
      expect(warn.message).toContain('must be greater than keepalive [2000 ms] and less than deadtime [30000 ms]');
    }
    expect(parseWith('keepalive 2\ndeadtime 30\nwarntime 10\n').problems.map((x) => x.code)).not.toContain('HACF_WARNTIME_RANGE');
  });
});

describe('ha.cf whole-file checks', () => {
  it('requires a medium', () => {
    const p = parse('node node1\nauto_failback on\n');
    expect(soleError(p, 'HACF_NO_MEDIA', 0).message).toBe('No heartbeat media defined');
  });

  it('requires a node and this node among them', () => {
    const p = parse('bcast eth0\n');
    expect(errors(p).map((e) => [e.code, e.line])).toEqual([['HACF_NO_NODES', 0], ['HACF_NODE_NOT_IN_CONFIG', 0]]);
    const q = parse(BASE, { nodename: 'Node9' });
    expect(soleError(q, 'HACF_NODE_NOT_IN_CONFIG', 1).message).toMatch(/^Current node \[node9\] not in configuration!/);
  });

  it('adds this node under autojoin any (no resources) instead of failing', () => {
    const p = parse('autojoin any\nbcast eth0\ncrm on\n', { nodename: 'solo' });
    expect(errors(p)).toEqual([]);
    expect(p.cfg.nodes).toEqual(['solo']);
    expect(only(p, 'HACF_NODE_ADDED').message).toBe('Current node [solo] added to configuration.');
  });

  it('rejects autojoin with v1 resources only', () => {
    const p = parseWith('autojoin other\n');
    expect(soleError(p, 'HACF_AUTOJOIN_R1', 6).message)
      .toBe('R1 style resource management conflicts with  autojoin set. You need either unset autojoin or enable crm');
    expect(errors(parseWith('autojoin other\ncrm yes\n'))).toEqual([]);
    expect(errors(parseWith('autojoin Any\n', { manageResources: false }))).toEqual([]);
    expect(parseWith('autojoin Any\n', { manageResources: false }).cfg.autojoin).toBe('any');
  });

  it('warns about legacy auto_failback (default or written) while v1 resources are managed', () => {
    const dflt = parse('node node1\nbcast eth0\nlogfile /x\n');
    expect(only(dflt, 'HACF_LEGACY_FAILBACK')).toMatchObject({ line: 0, severity: 'warning' });
    expect(only(dflt, 'HACF_LEGACY_FAILBACK').message).toMatch(/^Deprecated 'legacy' auto_failback option selected\./);
    const written = parse('node node1\nbcast eth0\nauto_failback Legacy\n');
    expect(only(written, 'HACF_LEGACY_FAILBACK').line).toBe(3);
    expect(parse('node node1\nbcast eth0\ncrm on\n').problems.map((x) => x.code)).not.toContain('HACF_LEGACY_FAILBACK');
  });

  it('converts nice_failback like heartbeat does (depending on an earlier auto_failback)', () => {
    const alone = parse('node node1\nbcast eth0\nnice_failback on\n');
    expect(errors(alone)).toEqual([]);
    expect(alone.cfg.autoFailback).toBe('legacy');
    expect(only(alone, 'HACF_NICE_FAILBACK')).toMatchObject({ line: 3, severity: 'warning' });
    expect(only(alone, 'HACF_NICE_FAILBACK').message)
      .toContain("nice_failback on has been strictly interpreted as 'auto_failback legacy'");
    const after = parse('node node1\nbcast eth0\nauto_failback on\nnice_failback off\n');
    expect(after.cfg.autoFailback).toBe('off');
    expect(only(after, 'HACF_NICE_FAILBACK').message).toContain("'nice_failback off' has been changed to 'auto_failback off'");
    expect(after.cfg.raw['auto_failback']).toBe('on');
    expect(soleError(parse('node node1\nbcast eth0\nnice_failback maybe\n'), 'HACF_BAD_VALUE', 3)).toBeTruthy();
  });

  it('applies the logd rules of heartbeat', () => {
    expect(soleError(parse('node node1\nbcast eth0\nauto_failback on\nuse_logd off\n'), 'HACF_NO_LOG', 4).message)
      .toMatch(/^No log entry found in ha.cf and use_logd is set to off/);
    const both = parse('node node1\nbcast eth0\nauto_failback on\nlogfile /x\nlogfacility local0\nuse_logd yes\n');
    expect(only(both, 'HACF_LOGD_AND_FILES').message).toBe('logd is enabled but logfile/debugfile/logfacility is still configured in ha.cf');
  });

  it('treats the facility none (and kern, number 0) as no syslog', () => {
    for (const f of ['none', 'kern']) {
      const p = parseWith(`logfacility ${f}\n`);
      expect(p.cfg.logfacility).toBeUndefined();
      expect(p.cfg.raw['logfacility']).toBe(f);
    }
    expect(parseWith('logfacility security\n').cfg.logfacility).toBe('auth');
  });

  it(`keeps line numbers of extra lines after BASE (${BASE_LINES} lines)`, () => {
    expect(soleError(parseWith('\n\nhopfudge 999\n'), 'HACF_BAD_VALUE', BASE_LINES + 3)).toBeTruthy();
  });
});
