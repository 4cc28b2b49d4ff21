import { describe, expect, it } from 'vitest';
import { parseLdirectordConf } from '../../../lib/ldirectord/parse.js';
import { persistSetName, renderNft, validateForNft, type NftEnv } from '../../../lib/ldirectord/nft.js';
import type { PlaneService } from '../../../lib/ldirectord/plane.js';
import { rrBuckets, weightedBuckets, wrrBuckets, wrrSequence } from '../../../lib/ldirectord/sched.js';

const cfgOf = (text: string) => {
  const r = parseLdirectordConf(text, 'ld.cf', { portLookup: () => undefined });
  if (!r.value) throw new Error(JSON.stringify(r.problems));
  return r.value;
};
const nftErrors = (text: string) => validateForNft(cfgOf(text)).filter((p) => p.severity === 'error').map((p) => [p.line, p.message]);

const env: NftEnv = {
  localAddresses: new Set(['127.0.0.1', '10.0.0.1']),
  ingressDevice: (vip) => (vip === '10.0.0.1' ? 'eth0' : undefined),
  egressDevice: () => 'eth1',
};
const svc = (over: Partial<PlaneService>): PlaneService => ({
  id: 'tcp:10.0.0.1:80', protocol: 'tcp', address: '10.0.0.1', port: 80, scheduler: 'rr', ops: false, reals: [], ...over,
});
const real = (address: string, weight = 1, port = 8080, forward: 'masq' | 'gate' = 'masq') => ({ address, port, forward, weight, fallback: false });

describe('scheduler arithmetic', () => {
  it('orders weighted round robin as IPVS does', () => {
    expect(wrrSequence([3, 1])).toEqual([0, 0, 0, 1]);
    expect(wrrSequence([4, 3, 2])).toEqual([0, 0, 1, 0, 1, 2, 0, 1, 2]);
    expect(wrrSequence([2, 2])).toEqual([0, 1]);
    expect(wrrBuckets([3, 1])).toEqual({ modulus: 4, buckets: [{ from: 0, to: 2, index: 0 }, { from: 3, to: 3, index: 1 }] });
    expect(rrBuckets(3).modulus).toBe(3);
    expect(weightedBuckets([2, 0, 1])).toEqual({ modulus: 3, buckets: [{ from: 0, to: 1, index: 0 }, { from: 2, to: 2, index: 2 }] });
  });

  it('falls back to proportional runs when the interleaved period is too long', () => {
    const b = wrrBuckets([1000, 999, 7]);
    expect(b.modulus).toBe(2006);
    expect(b.buckets.map((x) => x.to - x.from + 1)).toEqual([1000, 999, 7]);
  });
});

describe('nftables plane: what it refuses', () => {
  it('names every IPVS-only feature with its line', () => {
    const text = [
      'virtual=10.0.0.1:80', //                    1
      '  real=10.0.1.1:80 masq', //                2
      '  scheduler=lblc', //                       3
      'virtual=10.0.0.1:81', //                    4
      '  real=10.0.1.1:81 ipip', //                5
      '  scheduler=rr', //                         6
      'virtual=10.0.0.1:82', //                    7
      '  real=10.0.1.1:82 gate', //                8
      '  scheduler=wrr', //                        9
      'virtual=10.0.0.1:53', //                    10
      '  real=10.0.1.1:53 masq', //                11
      '  scheduler=wlc', //                        12
      '  ops=yes', //                              13
    ].join('\n');
    expect(nftErrors(text)).toEqual([
      [3, expect.stringMatching(/^scheduler=lblc \(virtual 10\.0\.0\.1:80\) is IPVS-only: .*locality/)],
      [5, expect.stringContaining('ipip (LVS-TUN) is IPVS-only')],
      [9, expect.stringContaining('scheduler=wrr with gate (direct routing) is IPVS-only')],
      [12, expect.stringContaining('scheduler=wlc (virtual 10.0.0.1:53) is IPVS-only: it needs per-server active connection counts')],
      [10, expect.stringContaining('ops=yes')],
    ]);
  });

  it('accepts masq with rr, wrr, sh, dh and persistence, and gate with sh/dh', () => {
    const ok = ['rr', 'wrr', 'sh', 'dh'].map((s, i) => `virtual=10.0.0.1:${80 + i}\n  real=10.0.1.1:8080 masq\n  scheduler=${s}\n  persistent=60\n`).join('') +
      'virtual=10.0.0.1:90\n  real=10.0.1.1:90 gate\n  real=10.0.1.2:90 gate 2\n  scheduler=sh\n  fallback=127.0.0.1:90 gate\n';
    expect(nftErrors(ok)).toEqual([]);
  });

  it('refuses mixed forward methods, fwmark gate and loopback masq reals', () => {
    expect(nftErrors('virtual=10.0.0.1:80\n  real=10.0.1.1:80 masq\n  real=10.0.1.2:80 gate\n  scheduler=sh\n')).toEqual([[1, expect.stringContaining('mixes gate and masq')]]);
    expect(nftErrors('virtual=5\n  real=10.0.1.1 gate\n  scheduler=sh\n')).toEqual([[1, expect.stringContaining('firewall mark is IPVS-only')]]);
    expect(nftErrors('virtual=10.0.0.1:80\n  real=127.0.0.1:80 masq\n  scheduler=rr\n')).toEqual([[2, expect.stringContaining('loopback')]]);
  });
});

describe('nftables plane: the ruleset', () => {
  it('replaces its own table atomically and DNATs by the scheduler', () => {
    const { text, warnings } = renderNft([
      svc({ reals: [real('10.0.1.1'), real('10.0.1.2')] }),
      svc({ id: 'tcp:10.0.0.1:81', port: 81, scheduler: 'wrr', reals: [real('10.0.1.1', 3), real('10.0.1.2', 1)] }),
      svc({ id: 'udp:10.0.0.1:53', protocol: 'udp', port: 53, scheduler: 'sh', reals: [real('10.0.1.1', 1, 0), real('10.0.1.2', 2, 0)] }),
      svc({ id: 'fwm:7', protocol: 'fwm', fwmark: 7, port: 0, scheduler: 'dh', reals: [real('10.0.1.1', 1, 0), real('10.0.1.2', 1, 0)] }),
    ], env);
    expect(warnings).toEqual([]);
    const lines = text.split('\n');
    expect(lines.slice(0, 5)).toEqual([
      'table ip ldirectord', 'delete table ip ldirectord', 'table netdev ldirectord', 'delete table netdev ldirectord', 'table ip ldirectord {',
    ]);
    expect(text).toContain('ip daddr 10.0.0.1 tcp dport 80 dnat ip to numgen inc mod 2 map { 0 : 10.0.1.1 . 8080, 1 : 10.0.1.2 . 8080 }');
    expect(text).toContain('ip daddr 10.0.0.1 tcp dport 81 dnat ip to numgen inc mod 4 map { 0-2 : 10.0.1.1 . 8080, 3 : 10.0.1.2 . 8080 }');
    expect(text).toMatch(/ip daddr 10\.0\.0\.1 udp dport 53 dnat ip to jhash ip saddr mod 3 seed 0x[0-9a-f]+ map \{ 0 : 10\.0\.1\.1 \. 53, 1-2 : 10\.0\.1\.2 \. 53 \}/);
    expect(text).toMatch(/meta mark 7 dnat ip to jhash ip daddr mod 2 seed 0x[0-9a-f]+ map \{ 0 : 10\.0\.1\.1, 1 : 10\.0\.1\.2 \}/);
    expect(text).toContain('type nat hook prerouting priority dstnat; policy accept;');
    expect(text).toContain('type nat hook output priority -100; policy accept;');
  });

  it('leaves quiescent (weight 0) servers out of scheduling but keeps their persistent clients', () => {
    const s = svc({ persistent: 300, netmask: '255.255.255.0', reals: [real('10.0.1.1'), real('10.0.1.2', 0)] });
    const kept = new Map([[persistSetName(s.id, '10.0.1.2', 8080), [{ addr: '192.168.5.0', expiresS: 120 }]]]);
    const { text } = renderNft([s], env, kept);
    expect(text).toContain('ip daddr 10.0.0.1 tcp dport 80 dnat ip to 10.0.1.1:8080');
    expect(text).not.toContain('numgen');
    const set2 = persistSetName(s.id, '10.0.1.2', 8080);
    expect(text).toContain(`ip daddr 10.0.0.1 tcp dport 80 ip saddr and 255.255.255.0 @${set2} dnat ip to 10.0.1.2:8080`);
    expect(text).toContain(`elements = { 192.168.5.0 timeout 300s expires 120s }`);
    expect(text).toContain(`meta l4proto tcp ct status dnat ct original ip daddr 10.0.0.1 ct original proto-dst 80 ip daddr 10.0.1.2 th dport 8080 update @${set2} { ip saddr and 255.255.255.0 timeout 300s }`);
  });

  it('redirects to a local fallback and writes nothing for an empty service', () => {
    const { text } = renderNft([
      svc({ reals: [{ address: '127.0.0.1', port: 8081, forward: 'masq', weight: 1, fallback: true }] }),
      svc({ id: 'tcp:10.0.0.1:81', port: 81, reals: [] }),
    ], env);
    expect(text).toContain('ip daddr 10.0.0.1 tcp dport 80 redirect to :8081');
    expect(text).not.toContain('dport 81 ');
  });

  it('forwards gate traffic at netdev ingress by source hash, and leaves a local gate fallback to the stack', () => {
    const { text, warnings } = renderNft([
      svc({ scheduler: 'sh', port: 80, reals: [real('10.0.1.1', 1, 80, 'gate'), real('10.0.1.2', 1, 80, 'gate')] }),
      svc({ id: 'tcp:10.0.0.1:443', port: 443, scheduler: 'sh', reals: [{ address: '127.0.0.1', port: 443, forward: 'gate', weight: 1, fallback: true }] }),
      svc({ id: 'tcp:10.0.0.9:80', address: '10.0.0.9', scheduler: 'sh', reals: [real('10.0.1.1', 1, 80, 'gate')] }),
    ], env);
    expect(text).toContain('table netdev ldirectord {');
    expect(text).toContain('type filter hook ingress device "eth0" priority -500; policy accept;');
    expect(text).toMatch(/ip daddr 10\.0\.0\.1 tcp dport 80 fwd ip to jhash ip saddr mod 2 seed 0x[0-9a-f]+ map \{ 0 : 10\.0\.1\.1, 1 : 10\.0\.1\.2 \} device "eth1"/);
    expect(text).not.toContain('dport 443');
    expect(warnings).toEqual([expect.stringContaining('VIP 10.0.0.9 is not configured on any interface yet')]);
  });
});
