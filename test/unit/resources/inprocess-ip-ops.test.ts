/**
 * The rules of hb-ipaddr.sh on a table kernel: which interface, prefix,
 * label and broadcast an address gets, when it counts as running, what is
 * logged and which exit code results. (test/netns/inprocess-ip.test.ts
 * compares the same operations with the script on a real kernel.)
 */
import { describe, expect, it } from 'vitest';
import type { IpMode } from '../../../lib/resources/inprocess-ip-args.js';
import { type AddrRow, type IpKernel, runIpOp, type RouteRow } from '../../../lib/resources/inprocess-ip-ops.js';

interface World { addrs: AddrRow[]; routes: RouteRow[]; links: string[]; arps: string[]; lines: string[] }

function world(addrs: AddrRow[] = []): World {
  return {
    addrs, arps: [], lines: [], links: ['lo', 'eth0', 'eth1'],
    routes: [{ net: '10.0.0.0', bits: 24, dev: 'eth0' }, { net: '10.0.0.0', bits: 16, dev: 'eth1' }, { net: '192.168.5.0', bits: 24, dev: 'eth1' }],
  };
}

function kernel(w: World): IpKernel {
  return {
    addrs: () => w.addrs.map((a) => ({ ...a })),
    routes: () => w.routes,
    linkExists: (dev) => w.links.includes(dev),
    addrAdd: (dev, ip, bits, _brd, label) => void w.addrs.push({ dev, ip, bits, label: label || dev }),
    addrDel: (dev, ip, bits) => { w.addrs = w.addrs.filter((a) => !(a.dev === dev && a.ip === ip && a.bits === bits)); },
    linkUp: () => undefined,
  };
}

function run(w: World, mode: IpMode, op: 'start' | 'stop' | 'status', spec: string): number {
  const r = runIpOp({ mode, kernel: kernel(w), log: (l, t) => void w.lines.push(`${l} ${t}`), sendArp: (d, ip) => void w.arps.push(`${d} ${ip}`) }, op, spec);
  w.lines.push(`stdout ${r.stdout.trim()}`);
  return r.code;
}

describe('IPaddr', () => {
  it('start takes the most specific connected route, the first free alias and the network broadcast', () => {
    const w = world([{ dev: 'eth0', ip: '10.0.0.1', bits: 24, label: 'eth0' }, { dev: 'eth0', ip: '10.0.0.2', bits: 24, label: 'eth0:0' }]);
    expect(run(w, 'IPaddr', 'start', '10.0.0.10')).toBe(0);
    expect(w.lines).toEqual([
      'info ip -4 addr add 10.0.0.10/24 brd 10.0.0.255 dev eth0 label eth0:1',
      'info Success', 'stdout INFO:  Success',
    ]);
    expect(w.arps).toEqual(['eth0 10.0.0.10']);
    expect(run(w, 'IPaddr', 'status', '10.0.0.10')).toBe(0);
    expect(w.lines.at(-1)).toBe('stdout INFO:  Running OK');
  });
  it('start ignores a label, says so, and is a no-op when the address is there', () => {
    const w = world();
    expect(run(w, 'IPaddr', 'start', '192.168.5.7/24/eth1:x')).toBe(0);
    expect(w.lines[0]).toBe("info IPaddr picks its own alias label; ignoring ':x' (use IPaddr2 for a fixed label)");
    expect(w.lines[1]).toBe('info ip -4 addr add 192.168.5.7/24 brd 192.168.5.255 dev eth1 label eth1:0');
    w.lines = [];
    expect(run(w, 'IPaddr', 'start', '192.168.5.7/24/eth1')).toBe(0);
    expect(w.lines[0]).toBe('info 192.168.5.7 is already configured (nothing to do)');
  });
  it('no route, no interface, bad argument: the script\'s codes and texts', () => {
    const w = world();
    expect(run(w, 'IPaddr', 'start', '172.16.0.1')).toBe(1);
    expect(w.lines[0]).toBe('err No interface found for 172.16.0.1: no connected route contains it; give one explicitly, e.g. 172.16.0.1/24/eth0');
    expect(run(w, 'IPaddr', 'start', '172.16.0.1/24/eth9')).toBe(6);
    expect(w.lines).toContain('err Interface eth9 does not exist (resource 172.16.0.1)');
    expect(w.lines.at(-1)).toBe('stdout ERROR:  Program is not configured');
    expect(run(w, 'IPaddr', 'status', '10.0.0.300')).toBe(2);
    expect(w.lines.at(-1)).toBe('stdout ERROR:  Illegal argument');
    expect(run(w, 'IPaddr', 'status', '10.0.0.30')).toBe(7);
    expect(w.lines.at(-1)).toBe('stdout INFO:  Resource is stopped');
  });
  it('status counts the address anywhere unless an interface is named; there it must be on it', () => {
    const w = world([{ dev: 'eth1', ip: '10.0.0.10', bits: 16, label: 'eth1:0' }]);
    expect(run(w, 'IPaddr', 'status', '10.0.0.10')).toBe(0);
    expect(run(w, 'IPaddr', 'status', '10.0.0.10/24/eth0')).toBe(1);
    expect(w.lines).toContain('err 10.0.0.10 is configured as eth1:0/16 on eth1, not /24 on eth0');
  });
  it('stop removes it from the named interface only, warning about the others', () => {
    const w = world([{ dev: 'eth1', ip: '10.0.0.10', bits: 16, label: 'eth1:0' }, { dev: 'eth0', ip: '10.0.0.10', bits: 24, label: 'eth0:3' }]);
    expect(run(w, 'IPaddr', 'stop', '10.0.0.10/24/eth0')).toBe(0);
    expect(w.lines.slice(0, 2)).toEqual(['warn 10.0.0.10 is also on eth1; leaving it (this resource manages eth0)', 'info ip -4 addr del 10.0.0.10/24 dev eth0 (eth0:3)']);
    expect(w.addrs.map((a) => a.dev)).toEqual(['eth1']);
    expect(run(w, 'IPaddr', 'stop', '10.0.0.10')).toBe(0);
    expect(w.addrs).toEqual([]);
  });
  it('no ARP on a loopback interface', () => {
    const w = world();
    w.routes.push({ net: '127.0.0.0', bits: 8, dev: 'lo' });
    expect(run(w, 'IPaddr', 'start', '127.0.0.9')).toBe(0);
    expect(w.arps).toEqual([]);
  });
});

describe('IPaddr2', () => {
  it('start: no broadcast, label dev:label, status wants the prefix', () => {
    const w = world();
    expect(run(w, 'IPaddr2', 'start', '10.0.0.10/24/eth0:web')).toBe(0);
    expect(w.lines[0]).toBe('info ip -4 addr add 10.0.0.10/24  dev eth0 label eth0:web');
    w.lines = [];
    expect(run(w, 'IPaddr2', 'start', '10.0.5.5/16/eth1')).toBe(0);
    expect(w.lines[0]).toBe('info ip -4 addr add 10.0.5.5/16  dev eth1 ');
    expect(run(w, 'IPaddr2', 'status', '10.0.0.10/25/eth0')).toBe(1);
    expect(w.lines).toContain('err 10.0.0.10 is configured as eth0:web/24 on eth0, not /25 on eth0');
  });
  it('status without a route to derive from is stopped; a long label is refused', () => {
    const w = world([{ dev: 'eth0', ip: '172.16.0.1', bits: 24, label: 'eth0' }]);
    expect(run(w, 'IPaddr2', 'status', '172.16.0.1')).toBe(7);
    expect(run(w, 'IPaddr2', 'start', '10.0.0.10/24/eth0:abcdefghijk')).toBe(6);
    expect(w.lines).toContain("err Interface label eth0:abcdefghijk is longer than the kernel's 15 characters");
  });
  it('with a named interface, the prefix comes from the first route on it that holds the address', () => {
    const w = world();
    expect(run(w, 'IPaddr2', 'start', '10.0.0.10//eth1')).toBe(0);
    expect(w.addrs).toEqual([{ dev: 'eth1', ip: '10.0.0.10', bits: 16, label: 'eth1' }]);
  });
});
