import { describe, expect, it } from 'vitest';
import { formatProblems, parseLdirectordConf } from '../../../lib/ldirectord/parse.js';
import { resolveHosts } from '../../../lib/ldirectord/runtime.js';
import { effectiveTimeouts, fallbackFor } from '../../../lib/ldirectord/types.js';

const ports = (name: string): number | undefined => ({ http: 80, https: 443, ftp: 21, domain: 53 } as Record<string, number>)[name];
const parse = (text: string) => parseLdirectordConf(text, '/etc/ha.d/ldirectord.cf', { portLookup: ports, hostname: 'dir1' });
const errors = (text: string) => parse(text).problems.filter((p) => p.severity === 'error').map((p) => [p.line, p.code, p.message]);

// The seed's (000) ldirectord.cf, as its author wrote it (spaces after "=").
const SEED = `
virtual=172.25.60.200:80
	real=172.25.60.12:80 gate
	real=172.25.60.13:80 gate
	fallback=127.0.0.1:80 gate
	service=http
	scheduler=rr
	# persistent=600
	# netmask=255.255.255.255
	protocol=tcp
	checktype=negotiate
	checkport=80
	request= "index.html"
`;

describe('ldirectord.cf parser', () => {
  it('reads the seed configuration', () => {
    const r = parse(SEED);
    expect(r.problems).toEqual([]);
    const v = r.value?.virtuals[0];
    expect(v).toMatchObject({
      protocol: 'tcp', address: '172.25.60.200', port: 80, scheduler: 'rr', service: 'http', checktype: 'negotiate',
      checkport: 80, request: '/index.html', fallback: { address: '127.0.0.1', port: 80, forward: 'gate', line: 5 },
    });
    expect(v?.reals.map((x) => [x.address, x.port, x.forward, x.weight, x.line])).toEqual([
      ['172.25.60.12', 80, 'gate', 1, 3], ['172.25.60.13', 80, 'gate', 1, 4],
    ]);
    expect(v?.persistent).toBeUndefined();
  });

  it('applies ldirectord defaults', () => {
    const r = parse('virtual=10.0.0.1:80\n  real=10.0.1.1:80 masq\nvirtual=10.0.0.1:53\n  real=10.0.1.1 masq\nvirtual=7\n  real=10.0.1.1 gate\n');
    const [web, dns, fwm] = r.value?.virtuals ?? [];
    expect(web).toMatchObject({ scheduler: 'wrr', checktype: 'negotiate', service: 'http', request: '/', protocol: 'tcp' });
    expect(dns).toMatchObject({ protocol: 'udp', service: 'dns' });
    expect(dns?.reals[0]?.port).toBe(0);
    expect(fwm).toMatchObject({ protocol: 'fwm', fwmark: 7, service: 'none' });
    const cfg = r.value;
    if (!cfg || !web) throw new Error('no config');
    expect(cfg).toMatchObject({ checkinterval: 10, quiescent: false, autoreload: false, failurecount: 1, logfile: '/var/log/ldirectord.log', dataplane: 'auto' });
    expect(effectiveTimeouts(cfg, web)).toEqual({ check: 5, negotiate: 30 });
  });

  it('lets checktimeout and negotiatetimeout default to each other', () => {
    const cfg = parse('checktimeout=3\nvirtual=10.0.0.1:80\n  real=10.0.1.1:80 masq\nvirtual=10.0.0.1:81\n  real=10.0.1.1:80 masq\n  negotiatetimeout=9\n').value;
    const [a, b] = cfg?.virtuals ?? [];
    if (!cfg || !a || !b) throw new Error('no config');
    expect(effectiveTimeouts(cfg, a)).toEqual({ check: 3, negotiate: 3 });
    expect(effectiveTimeouts(cfg, b)).toEqual({ check: 9, negotiate: 9 });
  });

  it('reads weights, per-real request/receive, ranges, service names and globals', () => {
    const r = parse(`checkinterval=2
autoreload = yes
quiescent=yes
logfile="local0"
emailalert="ops@example.org"
fallback=10.0.9.9:http masq
dataplane=nftables
virtual=10.0.0.1:http
    real=10.0.1.1:http masq 5 "/health", "OK"
    real=10.0.2.1->10.0.2.3:8080 masq 2
    persistent=300
    netmask=255.255.255.0
    virtualhost=www.example.org
    httpmethod=head
    checktype=3
    fallbackcommand="/bin/echo fb"
`);
    expect(r.problems).toEqual([]);
    const cfg = r.value;
    const v = cfg?.virtuals[0];
    expect(cfg).toMatchObject({ checkinterval: 2, autoreload: true, quiescent: true, logfile: 'local0', emailalert: 'ops@example.org', dataplane: 'nftables' });
    expect(v?.reals.map((x) => `${x.address}:${x.port}/${x.weight}/${x.request ?? ''}/${x.receive ?? ''}`)).toEqual([
      '10.0.1.1:80/5//health/OK', '10.0.2.1:8080/2//', '10.0.2.2:8080/2//', '10.0.2.3:8080/2//',
    ]);
    expect(v).toMatchObject({ port: 80, persistent: 300, netmask: '255.255.255.0', virtualhost: 'www.example.org', httpmethod: 'HEAD', checktype: 'combined', numConnects: 3, fallbackcommand: '/bin/echo fb' });
    if (!cfg || !v) throw new Error('no config');
    expect(fallbackFor(cfg, v)).toMatchObject({ address: '10.0.9.9', port: 80, forward: 'masq' });
  });

  it('fills ftp login defaults', () => {
    const v = parse('virtual=10.0.0.1:21\n  real=10.0.1.1:21 masq\n  request="probe.txt"\n  receive="x"\n').value?.virtuals[0];
    expect(v).toMatchObject({ service: 'ftp', login: 'anonymous', passwd: 'ldirectord@dir1' });
  });

  it('reports a malformed virtual= block, an unknown scheduler and a real= outside a block, with file and line', () => {
    const text = [
      'checkinterval=5', //               1
      'real=10.0.1.1:80 masq', //         2  outside any block
      'virtual=10.0.0.300:80', //         3  bad address
      '    real=10.0.1.1:80 masq', //     4  (belongs to the bad block: not reported again)
      'virtual=10.0.0.1:80', //           5
      '    real=10.0.1.1:80 masq', //     6
      '    scheduler=roundrobin', //      7  unknown scheduler
      '    real=10.0.1.2:80 tunnel', //   8  bad forward method
      '    real=10.0.1.3:80 masq 2 junk', // 9  trailing junk
      '    frobnicate=yes', //            10 unknown directive
      'quiescent=maybe', //               11 bad yes/no
      'virtual=10.0.0.1:80', //           12 duplicate (reported at its end)
      '    real=10.0.1.9:80 masq', //     13
    ].join('\n');
    const r = parse(text);
    expect(r.value).toBeUndefined();
    expect(errors(text)).toEqual([
      [2, 'LDCF_REAL_OUTSIDE_VIRTUAL', expect.stringContaining('outside a virtual= block')],
      [3, 'LDCF_BAD_VIRTUAL', expect.stringContaining('invalid IPv4 address "10.0.0.300"')],
      [7, 'LDCF_BAD_SCHEDULER', expect.stringContaining('unknown scheduler "roundrobin"')],
      [8, 'LDCF_BAD_REAL', expect.stringContaining('forward method must be gate, masq or ipip')],
      [9, 'LDCF_BAD_REAL', expect.stringContaining('around "junk"')],
      [10, 'LDCF_UNKNOWN_DIRECTIVE', expect.stringContaining('frobnicate')],
      [11, 'LDCF_BAD_VALUE', "quiescent must be 'yes' or 'no'"],
      [12, 'LDCF_DUPLICATE_VIRTUAL', expect.stringContaining('first defined at line 5')],
    ]);
    expect(formatProblems(r.problems)[0]).toBe(
      '/etc/ha.d/ldirectord.cf:2: error: "real=" outside a virtual= block (it must follow a virtual= line and be indented) [LDCF_REAL_OUTSIDE_VIRTUAL]',
    );
  });

  it('reports an indented real= with no block open, and other bad values', () => {
    expect(errors('  real=10.0.1.1:80 masq\n')).toEqual([[1, 'LDCF_REAL_OUTSIDE_VIRTUAL', expect.any(String)]]);
    expect(errors('virtual=10.0.0.1\n')).toEqual([[1, 'LDCF_BAD_VIRTUAL', expect.stringContaining('ip_address:port')]]);
    expect(errors('virtual=10.0.0.1:80\n  real=10.0.1.1:80 masq\n  request=index.html\n')).toEqual([[3, 'LDCF_BAD_VALUE', expect.stringContaining('quoted')]]);
    expect(errors('virtual=10.0.0.1:80\n  real=10.0.1.1:80 masq\n  receive="(unclosed"\n')).toEqual([[3, 'LDCF_BAD_VALUE', expect.stringContaining('regular expression')]]);
    expect(errors('virtual=10.0.0.1:80\n  real=10.0.1.1:80 masq\n  checktype=sometimes\n')).toEqual([[3, 'LDCF_BAD_VALUE', expect.stringContaining('checktype must be')]]);
    expect(errors('virtual=10.0.0.1:80\n  real=10.0.1.1:99999 masq\n')).toEqual([[2, 'LDCF_BAD_REAL', expect.stringContaining('out of range')]]);
    expect(errors('virtual=10.0.0.1:80\n  real=10.0.1.9->10.0.1.1:80 masq\n')).toEqual([[2, 'LDCF_BAD_REAL', expect.stringContaining('invalid range')]]);
    expect(errors('virtual=10.0.0.1:80\n  real=10.0.1.1:80 masq\n  netmask=255.0.255.0\n')).toEqual([[3, 'LDCF_BAD_VALUE', expect.stringContaining('contiguous')]]);
    expect(errors('checktimeout=0\n')).toEqual([[1, 'LDCF_BAD_VALUE', expect.stringContaining('positive')]]);
    expect(errors('timeout=5\n')).toEqual([[1, 'LDCF_BAD_VALUE', expect.stringContaining('deprecated')]]);
    expect(errors('virtual6=[2001:db8::1]:80\n')).toEqual([[1, 'LDCF_UNSUPPORTED', expect.stringContaining('IPv6')]]);
    expect(errors('dataplane=ebpf\n')).toEqual([[1, 'LDCF_BAD_VALUE', 'dataplane must be auto, nftables or ipvs']]);
  });

  it('keeps comments and blank lines out, and ends a block at the first unindented line', () => {
    const r = parse('virtual=10.0.0.1:80 # web\n\n  # a comment\n  real=10.0.1.1:80 masq # first\n\n  real=10.0.1.2:80 masq\ncheckinterval=3\n');
    expect(r.problems).toEqual([]);
    expect(r.value?.virtuals[0]?.reals).toHaveLength(2);
    expect(r.value?.checkinterval).toBe(3);
  });

  it('resolves host names and reports unresolvable ones at their line', async () => {
    const cfg = parse('virtual=www:80\n  real=web1:80 masq\n  real=nosuchhost:80 masq\n').value;
    if (!cfg) throw new Error('no config');
    const table: Record<string, string> = { www: '10.0.0.1', web1: '10.0.1.1' };
    const problems = await resolveHosts(cfg, async (h) => table[h]);
    expect(cfg.virtuals[0]?.address).toBe('10.0.0.1');
    expect(cfg.virtuals[0]?.reals[0]?.address).toBe('10.0.1.1');
    expect(problems).toEqual([expect.objectContaining({ line: 3, code: 'LDCF_UNRESOLVED' })]);
  });
});

describe('the shipped sample ha.d/ldirectord.cf', () => {
  it('parses without problems', async () => {
    const { readFileSync } = await import('node:fs');
    const text = readFileSync(new URL('../../../ha.d/ldirectord.cf', import.meta.url), 'utf8');
    const r = parse(text);
    expect(r.problems).toEqual([]);
    expect(r.value?.virtuals.map((v) => `${v.address}:${v.port}/${v.scheduler}/${v.reals.length}`)).toEqual(['192.168.1.100:80/wrr/2']);
  });
});
