/**
 * Every construct the nftables plane writes is loaded by the real nft into
 * a throwaway namespace: rr/wrr/sh/dh, tcp/udp/fwmark, persistence sets
 * with carried-over entries, a redirect to a local fallback, gate rules.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { persistSetName, renderNft } from '../../lib/ldirectord/nft.js';
import type { PlaneService } from '../../lib/ldirectord/plane.js';
import { Lab } from './harness/lab.js';

// one lab node: its own network namespace with eth0, removed by lab.down()
let lab: Lab | undefined;
const inNs = async (args: string[], input?: string): Promise<string> => {
  if (lab === undefined) throw new Error('lab is not up');
  const r = await lab.exec(1, args, input !== undefined ? { input } : {});
  if (r.code !== 0) throw new Error(`${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
};

beforeAll(async () => {
  lab = await Lab.up({ nodes: 1, subnet: '10.0.0' });
  await inNs(['ip', 'addr', 'add', '10.0.0.1/24', 'dev', 'eth0']);
}, 120_000);
afterAll(async () => lab?.down(), 120_000);

const real = (address: string, weight = 1, port = 8080, forward: 'masq' | 'gate' = 'masq', fallback = false) => ({ address, port, forward, weight, fallback });
const svc = (over: Partial<PlaneService>): PlaneService => ({
  id: 'tcp:10.0.0.1:80', protocol: 'tcp', address: '10.0.0.1', port: 80, scheduler: 'rr', ops: false, reals: [], ...over,
});

describe('nft accepts the rendered table', () => {
  it('loads, lists back, and is replaced and removed atomically', async () => {
    const persistent = svc({ id: 'tcp:10.0.0.1:81', port: 81, scheduler: 'wrr', persistent: 120, netmask: '255.255.255.0', reals: [real('10.0.1.1', 3), real('10.0.1.2', 1), real('10.0.1.3', 0)] });
    const table = [
      svc({ reals: [real('10.0.1.1'), real('10.0.1.2')] }),
      persistent,
      svc({ id: 'udp:10.0.0.1:53', protocol: 'udp', port: 53, scheduler: 'sh', persistent: 60, reals: [real('10.0.1.1', 1, 0), real('10.0.1.2', 2, 0)] }),
      svc({ id: 'fwm:7', protocol: 'fwm', fwmark: 7, port: 0, scheduler: 'dh', persistent: 30, reals: [real('10.0.1.1', 1, 0), real('10.0.1.2', 1, 0)] }),
      svc({ id: 'tcp:10.0.0.1:82', port: 82, reals: [real('127.0.0.1', 1, 8081, 'masq', true)] }),
      svc({ id: 'tcp:10.0.0.1:443', port: 443, scheduler: 'dh', reals: [real('10.0.0.11', 1, 443, 'gate'), real('10.0.0.12', 2, 443, 'gate')] }),
    ];
    const env = { localAddresses: new Set(['10.0.0.1', '127.0.0.1']), ingressDevice: () => 'eth0', egressDevice: () => 'eth0' };
    const kept = new Map([[persistSetName(persistent.id, '10.0.1.3', 8080), [{ addr: '192.168.9.0', expiresS: 90 }]]]);
    const { text } = renderNft(table, env, kept);
    await inNs(['nft', '-f', '-'], text);
    const listed = await inNs(['nft', 'list', 'ruleset']);
    expect(listed).toContain('dnat ip to numgen inc mod 4 map { 0-2 : 10.0.1.1 . 8080, 3 : 10.0.1.2 . 8080 }');
    expect(listed).toContain('meta mark 0x00000007');
    expect(listed).toContain('redirect to :8081');
    expect(listed).toMatch(/fwd ip to jhash ip daddr mod 3 seed 0x[0-9a-f]+ map \{ 0 : 10\.0\.0\.11, 1-2 : 10\.0\.0\.12 \} device "eth0"/);
    expect(listed).toMatch(/192\.168\.9\.0 (timeout 2m )?expires/);
    // a second load replaces rather than adds; the empty table removes the netdev part
    await inNs(['nft', '-f', '-'], renderNft([svc({ reals: [real('10.0.1.1')] })], env).text);
    const after = await inNs(['nft', 'list', 'ruleset']);
    expect(after.match(/table ip ldirectord/g)).toHaveLength(1);
    expect(after).not.toContain('netdev');
    expect(after).toContain('dnat to 10.0.1.1:8080');
  });
});
