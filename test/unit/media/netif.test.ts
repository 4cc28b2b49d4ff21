import { networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import { broadcastOf, isMulticast, lookupIpv4, prefixLengthOf, type InterfaceTable } from '../../../lib/media/netif.js';
import { HbError } from '../../../lib/util/errors.js';

const entry = (address: string, netmask: string, family: 'IPv4' | 'IPv6' = 'IPv4') =>
  ({ address, netmask, family, mac: '00:00:00:00:00:00', internal: false, cidr: null }) as never;

describe('address arithmetic', () => {
  it('computes the directed broadcast address as address | ~netmask', () => {
    expect(broadcastOf('10.0.0.1', '255.255.255.0')).toBe('10.0.0.255');
    expect(broadcastOf('192.168.77.130', '255.255.255.192')).toBe('192.168.77.191');
    expect(broadcastOf('172.16.5.4', '255.240.0.0')).toBe('172.31.255.255');
    expect(broadcastOf('10.1.2.3', '255.255.255.255')).toBe('10.1.2.3');
  });
  it('counts netmask bits and recognises class D groups', () => {
    expect(prefixLengthOf('255.255.255.0')).toBe(24);
    expect(prefixLengthOf('255.255.255.254')).toBe(31);
    expect(prefixLengthOf('0.0.0.0')).toBe(0);
    expect(isMulticast('225.0.0.1')).toBe(true);
    expect(isMulticast('239.255.255.255')).toBe(true);
    expect(isMulticast('240.0.0.1')).toBe(false);
    expect(isMulticast('10.0.0.1')).toBe(false);
    expect(isMulticast('bogus')).toBe(false);
  });
});

describe('lookupIpv4', () => {
  it('finds the real loopback interface of this machine', () => {
    const lo = lookupIpv4('lo', 'bcast');
    expect(lo).toMatchObject({ name: 'lo', address: '127.0.0.1', netmask: '255.0.0.0', prefixLength: 8, broadcast: '127.255.255.255' });
  });

  it('takes the first IPv4 address (the primary) and skips IPv6 entries', () => {
    const table: InterfaceTable = {
      hbtsfake0: [entry('fe80::1', 'ffff:ffff:ffff:ffff::', 'IPv6'), entry('10.0.0.1', '255.255.255.0'), entry('10.0.0.100', '255.255.255.0')],
    };
    expect(lookupIpv4('hbtsfake0', 'bcast', table)).toMatchObject({ address: '10.0.0.1', broadcast: '10.0.0.255', prefixLength: 24 });
  });

  it('names a missing interface and the known ones', () => {
    const table: InterfaceTable = { lo: [entry('127.0.0.1', '255.0.0.0')], hbtsfake0: [entry('10.0.0.1', '255.255.255.0')] };
    let err: unknown;
    try {
      lookupIpv4('hbtsfake9', 'bcast', table);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HbError);
    expect((err as HbError).code).toBe('MEDIA_IFACE_NOT_FOUND');
    expect((err as HbError).message).toMatch(/^bcast: interface hbtsfake9 not found \(known: lo, hbtsfake0(, .*)?\)$/);
  });

  it('reports an interface with only IPv6 addresses', () => {
    const table: InterfaceTable = { hbtsfake0: [entry('fe80::1', 'ffff:ffff:ffff:ffff::', 'IPv6')] };
    expect(() => lookupIpv4('hbtsfake0', 'mcast', table)).toThrow('mcast: interface hbtsfake0 has no IPv4 address');
  });

  it('agrees with os.networkInterfaces() for every IPv4 interface that is up here', () => {
    for (const [name, list] of Object.entries(networkInterfaces())) {
      const v4 = list?.find((e) => e.family === 'IPv4');
      if (v4 === undefined) continue;
      expect(lookupIpv4(name, 'bcast').address).toBe(v4.address);
    }
  });
});
