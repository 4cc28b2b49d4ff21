/**
 * The ipvsadm plane's command lines, checked against ipvsadm's grammar as
 * its manual and `--help` give it. The real ipvsadm binary runs in a lab
 * node: test/netns/ldirectord-ipvsadm.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { parseIpvsadmLine } from '../../../lib/ldirectord/ipvsadm-grammar.js';
import { ipvsadmDiff, ipvsadmRestore, parseIpvsadmSave } from '../../../lib/ldirectord/ipvsadm.js';
import { CONF, cfgOf } from './ipvsadm-fixture.js';
import type { PlaneTable } from '../../../lib/ldirectord/plane.js';
import { computeTable, realKey } from '../../../lib/ldirectord/state.js';

function grammarOk(lines: string[]): void {
  for (const l of lines) {
    const r = parseIpvsadmLine(l);
    expect(typeof r === 'string' ? `${l}: ${r}` : 'ok').toBe('ok');
  }
}

describe('ipvsadm command lines', () => {
  const cfg = cfgOf(CONF);
  const none = computeTable(cfg, new Map());
  const [web, tls, dns, fwm] = cfg.virtuals;
  if (!web || !tls || !dns || !fwm) throw new Error('config');
  const allUp = new Map([...cfg.virtuals].flatMap((v) => v.reals.map((r) => [realKey(v, r), true] as [string, boolean])));
  const up = computeTable(cfg, allUp);

  it('start: services, quiescent entries and fallbacks', () => {
    const lines = ipvsadmDiff([], none);
    expect(lines).toEqual([
      '-A -t 172.25.60.200:80 -s rr -p 300',
      '-a -t 172.25.60.200:80 -r 127.0.0.1:80 -g -w 1',
      '-A -t 10.0.0.1:8443 -s wlc -p 600 -M 255.255.255.0',
      '-a -t 10.0.0.1:8443 -r 192.168.10.1:443 -m -w 0',
      '-a -t 10.0.0.1:8443 -r 192.168.10.2:443 -m -w 0',
      // quiescent servers are down: the fallback serves (gate: on the virtual port)
      '-a -t 10.0.0.1:8443 -r 127.0.0.1:8443 -g -w 1',
      '-A -u 10.0.0.1:53 -o -s sh',
      '-a -u 10.0.0.1:53 -r 127.0.0.1:53 -g -w 1',
      '-A -f 5 -s lblcr',
      // the global fallback's own port, as ldirectord uses it
      '-a -f 5 -r 127.0.0.1:80 -g -w 1',
    ]);
    grammarOk(lines);
  });

  it('real servers coming up: added, restored from quiescent, fallback deleted', () => {
    const lines = ipvsadmDiff(none, up);
    expect(lines).toEqual([
      '-d -t 172.25.60.200:80 -r 127.0.0.1:80',
      '-a -t 172.25.60.200:80 -r 172.25.60.12:80 -g -w 1',
      '-a -t 172.25.60.200:80 -r 172.25.60.13:80 -g -w 2',
      '-d -t 10.0.0.1:8443 -r 127.0.0.1:8443',
      '-e -t 10.0.0.1:8443 -r 192.168.10.1:443 -m -w 3',
      '-e -t 10.0.0.1:8443 -r 192.168.10.2:443 -m -w 1',
      '-d -u 10.0.0.1:53 -r 127.0.0.1:53',
      '-a -u 10.0.0.1:53 -r 192.168.10.1:53 -i -w 1',
      '-d -f 5 -r 127.0.0.1:80',
      '-a -f 5 -r 192.168.10.1:0 -m -w 1',
    ]);
    grammarOk(lines);
  });

  it('one real server failing: deleted, or weight 0 with quiescent=yes', () => {
    const down = new Map(allUp);
    down.set(realKey(web, web.reals[0] ?? web.reals[1]!), false);
    down.set(realKey(tls, tls.reals[1]!), false);
    const lines = ipvsadmDiff(up, computeTable(cfg, down));
    expect(lines).toEqual([
      '-d -t 172.25.60.200:80 -r 172.25.60.12:80',
      '-e -t 10.0.0.1:8443 -r 192.168.10.2:443 -m -w 0',
    ]);
    grammarOk(lines);
  });

  it('reload: a changed scheduler is edited, a removed service deleted', () => {
    const cfg2 = cfgOf(CONF.replace('scheduler=rr', 'scheduler=wrr').replace(/virtual=5[\s\S]*$/, ''));
    const lines = ipvsadmDiff(up, computeTable(cfg2, allUp));
    expect(lines).toEqual(['-D -f 5', '-E -t 172.25.60.200:80 -s wrr -p 300']);
    grammarOk(lines);
  });

  it('writes the -R restore format and reads -S output back', () => {
    const text = ipvsadmRestore(up);
    expect(text.split('\n')[0]).toBe('-A -t 172.25.60.200:80 -s rr -p 300');
    grammarOk(text.split('\n').filter(Boolean));
    const back: PlaneTable = parseIpvsadmSave(text);
    expect(ipvsadmDiff(back, up)).toEqual([]);
    // as ipvsadm -S prints, with the ipvsadm prefix that -R also accepts
    expect(parseIpvsadmSave('ipvsadm -A -t 10.1.1.1:80 -s wlc\nipvsadm -a -t 10.1.1.1:80 -r 10.2.2.2:80 -m -w 1\n')).toEqual([
      { id: 'tcp:10.1.1.1:80', protocol: 'tcp', address: '10.1.1.1', port: 80, scheduler: 'wlc', ops: false,
        reals: [{ address: '10.2.2.2', port: 80, forward: 'masq', weight: 1, fallback: false }] },
    ]);
  });

  it('keys gate real servers by the virtual port, as the kernel stores them', () => {
    const c = cfgOf('virtual=10.0.0.1:80\n  real=10.0.1.1:8080 gate\n  scheduler=rr\n');
    const v = c.virtuals[0];
    if (!v) throw new Error('config');
    expect(ipvsadmDiff([], computeTable(c, new Map([[realKey(v, v.reals[0]!), true]])))).toEqual([
      '-A -t 10.0.0.1:80 -s rr', '-a -t 10.0.0.1:80 -r 10.0.1.1:80 -g -w 1',
    ]);
  });
});

describe('ipvsadm grammar (from ipvsadm(8))', () => {
  it('accepts the manual\'s examples', () => {
    grammarOk([
      'ipvsadm -A -t 207.175.44.110:80 -s rr',
      'ipvsadm -a -t 207.175.44.110:80 -r 192.168.10.1:80 -m',
      '-A -f 1 -s rr',
      '-a -f 1 -r 192.168.10.1:0 -m',
      '--add-service --udp-service 10.0.0.1:53 --scheduler sh --persistent',
      '-e -t 10.0.0.1:80 -r 10.0.0.2 -g -w 0 -x 100 -y 50',
      '-C',
    ]);
    expect(parseIpvsadmLine('-A -t 10.0.0.1:80 -s rr -p')).toMatchObject({ persistent: 300 });
  });

  it('rejects what ipvsadm rejects', () => {
    const bad: [string, RegExp][] = [
      ['-A -t 10.0.0.1:80 -s roundrobin', /unknown scheduler/],
      ['-A -t 10.0.0.1:80 -r 10.0.0.2:80', /does not take real-server options/],
      ['-a -t 10.0.0.1:80 -g', /needs a real server/],
      ['-a -t 10.0.0.1:80 -r 10.0.0.2 -g -m', /more than one packet-forwarding method/],
      ['-a -t 10.0.0.1:80 -r 10.0.0.2 -w -1', /weight/],
      ['-a -t 10.0.0.1:80 -r 10.0.0.2 -s rr', /does not take scheduling/],
      ['-D -t 10.0.0.1:80 -s rr', /only the virtual service/],
      ['-d -t 10.0.0.1:80 -r 10.0.0.2 -w 1', /only the virtual service and -r/],
      ['-A -t 10.0.0.1:80 -o -s rr', /UDP or fwmark/],
      ['-A -f 0 -s rr', /greater than zero/],
      ['-A -t 10.0.0.256:80 -s rr', /invalid IPv4/],
      ['-A -a -t 10.0.0.1:80', /more than one command/],
      ['-t 10.0.0.1:80', /no command/],
      ['-A -t 10.0.0.1:80 --frob', /unknown option/],
    ];
    for (const [line, re] of bad) expect(parseIpvsadmLine(line), line).toMatch(re);
  });
});
