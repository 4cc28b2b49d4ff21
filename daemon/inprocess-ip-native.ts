/**
 * The kernel side of the in-process IPaddr path (lib/resources/inprocess-ip.ts)
 * on the hb_ipaddr addon (native/hb_ipaddr.c): rtnetlink dumps and changes,
 * IFF_UP, gratuitous ARP. Failures become IpKernelError, on which the
 * caller runs the script instead.
 */
import type { IpKernelWithArp } from '../lib/resources/inprocess-ip.js';
import { type AddrRow, IpKernelError, type RouteRow } from '../lib/resources/inprocess-ip-ops.js';
import { errnoName, loadAddon } from '../lib/util/addon.js';

interface IpAddon {
  addrList(): Array<[string, string, number, string]> | number;
  routeList(): Array<[string, number, string]> | number;
  addrChange(add: boolean, ifname: string, ip: string, prefix: number, brd: string, label: string): number;
  ifIndex(ifname: string): number;
  linkUp(ifname: string): number;
  garp(ifname: string, ip: string, reply: boolean): number;
}

/** Interface names the kernel accepts (IFNAMSIZ - 1); longer ones cannot exist. */
const IFNAME_MAX = 15;

function rows<T>(what: string, r: T[] | number): T[] {
  if (typeof r === 'number') throw new IpKernelError(what, errnoName(-r));
  return r;
}

function check(what: string, rc: number): void {
  if (rc !== 0) throw new IpKernelError(what, errnoName(rc));
}

/** Loads the addon; throws HbError IPADDR_ADDON_MISSING / IPADDR_ADDON_LOAD when it is not built. */
export function nativeIpKernel(): IpKernelWithArp {
  const a = loadAddon<IpAddon>('hb_ipaddr', 'IPADDR', 'in-process IPaddr');
  return {
    addrs: (): AddrRow[] => rows('listing addresses', a.addrList()).map(([dev, ip, bits, label]) => ({ dev, ip, bits, label })),
    routes: (): RouteRow[] => rows('listing routes', a.routeList()).map(([net, bits, dev]) => ({ net, bits, dev })),
    linkExists: (dev) => dev.length > 0 && dev.length <= IFNAME_MAX && a.ifIndex(dev) > 0,
    addrAdd: (dev, ip, bits, brd, label) => check(`adding ${ip}/${bits} to ${dev}`, a.addrChange(true, dev, ip, bits, brd, label)),
    addrDel: (dev, ip, bits) => check(`removing ${ip}/${bits} from ${dev}`, a.addrChange(false, dev, ip, bits, '', '')),
    linkUp: (dev) => void a.linkUp(dev),
    garp: (dev, ip, reply) => void a.garp(dev, ip, reply),
  };
}
