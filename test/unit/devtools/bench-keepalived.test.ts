/**
 * The benchmark's keepalived column, pure parts: the VRRPv3 configuration a
 * lab node gets, how its advert_int is matched to a Heartbeat deadtime, and
 * the third column of the printed table and the Markdown.
 */
import { describe, expect, it } from 'vitest';
import { advertFor, advertLabel } from '../../../bench/ka-cluster.js';
import { resultsMarkdown } from '../../../bench/markdown.js';
import { Recorder, ratioText } from '../../../bench/report.js';
import { keepalivedConf, masterDownMs, vrrpPriority } from '../../../devtools/lab/keepalived.js';

const IPS = ['10.77.0.11', '10.77.0.12'];
const SPEC = { advertS: 0.15, vip: '10.77.0.100', prefix: 24 };

describe('keepalived configuration of a lab node', () => {
  it('is VRRPv3, unicast to the peer, the VIP on eth0, node1 the preferred master', () => {
    const c = keepalivedConf(1, IPS, SPEC);
    expect(c).toMatch(/^\s*vrrp_version 3$/m);
    expect(c).toMatch(/^\s*state MASTER$/m);
    expect(c).toMatch(/^\s*priority 190$/m);
    expect(c).toMatch(/^\s*advert_int 0\.15$/m);
    expect(c).toMatch(/^\s*unicast_src_ip 10\.77\.0\.11$/m);
    expect(c).toMatch(/unicast_peer \{\n\s+10\.77\.0\.12\n\s+\}/);
    expect(c).toContain('10.77.0.100/24 dev eth0');
    const c2 = keepalivedConf(2, IPS, SPEC);
    expect(c2).toMatch(/^\s*state BACKUP$/m);
    expect(c2).toMatch(/^\s*priority 180$/m);
    expect(c2).toMatch(/unicast_peer \{\n\s+10\.77\.0\.11\n\s+\}/);
    expect(c).not.toMatch(/vrrp_rt_priority|vrrp_no_swap/);
  });

  it('asks for SCHED_RR 1 and locked memory only with realtime (as Heartbeat runs)', () => {
    const c = keepalivedConf(1, IPS, { ...SPEC, realtime: true });
    expect(c).toMatch(/global_defs \{[^}]*\n\s+vrrp_rt_priority 1\n\s+vrrp_no_swap\n\}/);
  });

  it('refuses an advert_int VRRPv3 cannot carry and a node without an address', () => {
    expect(() => keepalivedConf(1, IPS, { ...SPEC, advertS: 0.005 })).toThrow(/advert_int must be 0\.01\.\.40\.95/);
    expect(() => keepalivedConf(1, IPS, { ...SPEC, advertS: 41 })).toThrow(/advert_int/);
    expect(() => keepalivedConf(3, IPS, SPEC)).toThrow(/no address for node3/);
  });

  it('matches advert_int to a deadtime through node2\'s master-down interval (RFC 5798)', () => {
    expect(masterDownMs(1, 180)).toBeCloseTo(3000 + (76 * 1000) / 256, 6);
    expect(vrrpPriority(2)).toBe(180);
    expect(advertFor(500)).toBe(0.15);
    expect(advertFor(5000)).toBe(1.52); // 3.297 adverts per master-down at priority 180
    expect(advertFor(30)).toBe(0.01);
    expect(advertFor(1)).toBe(0.01);
    expect(advertLabel(0.15)).toBe('advert_int 0.15s');
    expect(advertLabel(0.15, true)).toBe('advert_int 0.15s, realtime');
  });
});

describe('bench tables with a keepalived column', () => {
  const rec = (): Recorder => {
    const r = new Recorder({ cpus: 2, memGiB: 4, node: 'v', kernel: 'k', load: '' }, {});
    const base = { metric: 'crash → VIP answers ping', setting: 's', unit: 'ms', better: 'lower' as const };
    r.add({ ...base, scenario: 'vipping', daemon: 'ours' }, 100);
    r.add({ ...base, scenario: 'vipping', daemon: 'real' }, 400);
    r.add({ ...base, scenario: 'vipping', daemon: 'keepalived' }, 50);
    r.add({ ...base, scenario: 'failover', daemon: 'ours' }, 100);
    r.add({ ...base, scenario: 'failover', daemon: 'real' }, 200);
    return r;
  };

  it('prints the keepalived column and ratio only where keepalived was measured', () => {
    const r = rec();
    const t = r.table('vipping').split('\n');
    expect(t[0]).toContain('keepalived 2.2 (VRRPv3) min / median / max');
    expect(t[0]).toContain('ours/ka');
    expect(t[1]).toContain('0.25× (lower is better)');
    expect(t[1]).toContain('2.00× (lower is better)');
    expect(r.table('failover')).not.toContain('keepalived');
    const md = resultsMarkdown(r.results, {});
    expect(md).toContain('| metric | setting | heartbeat-ts | Heartbeat 3.0.6 | keepalived 2.2 (VRRPv3) | ours / Heartbeat | ours / keepalived |');
    expect(md).toContain('| metric | setting | heartbeat-ts | Heartbeat 3.0.6 | ours / Heartbeat |');
  });

  it('gives no ratio for a missing or negative figure', () => {
    expect(ratioText(10, 20, 'lower')).toBe('0.50× (lower is better)');
    expect(ratioText(10, undefined, 'lower')).toBe('—');
    expect(ratioText(10, -3, 'lower')).toBe('—');
    expect(ratioText(-1, 3, 'lower')).toBe('—');
  });
});
