/**
 * The in-process IPaddr path reads `ip[/cidr[/dev[:label]][/broadcast]]`
 * exactly as resource.d/hb-ipaddr.sh does: every row runs the script's own
 * hb_ipaddr_parse in sh and compares fields or error text.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cidrBits, defaultBroadcast, ipInstance, ipValid, parseIpSpec } from '../../../lib/resources/inprocess-ip-args.js';
import { OUR_SCRIPT_SHA256 } from '../../../lib/resources/inprocess-ip.js';

const RD = join(import.meta.dirname, '..', '..', '..', 'resource.d');

/** hb_ipaddr_parse of the script: `ip|bits|dev|label|brd`, or `ERR <message>`. */
function scriptParse(spec: string): string {
  const prog = `. "${RD}/hb-functions.sh"; . "${RD}/hb-ipaddr.sh"; OP=status; hb_ipaddr_parse "$1"; echo "$IP|$BITS|$DEV|$LABEL|$BRD"`;
  const env: Record<string, string> = { PATH: process.env['PATH'] ?? '/usr/bin:/bin' };
  const r = spawnSync('sh', ['-c', prog, 'IPaddr', spec], { encoding: 'utf8', env });
  if (r.status === 0) return r.stdout.trim();
  const m = /ERROR: (.*)\n/.exec(r.stderr);
  return `ERR ${m?.[1] ?? r.stderr}`;
}

function oursParse(spec: string): string {
  const p = parseIpSpec(spec);
  if ('error' in p) return `ERR ${p.error}`;
  return `${p.ip}|${p.bits ?? ''}|${p.dev}|${p.label}|${p.brd}`;
}

const SPECS = [
  '10.0.0.10', '10.0.0.10/24', '10.0.0.10/24/eth0', '10.0.0.10/24/eth0/10.0.0.255', '10.0.0.10/255.255.255.0/eth0',
  '10.0.0.10/24/eth0:web', '10.0.0.10/24/eth0:', '10.0.0.10/24/10.0.0.255', '10.0.0.10//eth0', '10.0.0.10/24/', '10.0.0.10/',
  '10.0.0.10/24/eth0/10.0.0.255/x', '10.0.0.10/24/10.0.0.255/x', '10.0.0.10/24/eth0/bogus', '10.0.0.10/24/eth 0',
  '10.0.0.10/24/et$h0', '10.0.0.10/24/br-lan.5@x_y', '10.0.0.10/0', '10.0.0.10/33', '10.0.0.10/024', '10.0.0.10/32',
  '10.0.0.10/1', '10.0.0.10/255.0.255.0', '10.0.0.10/0.0.0.0', '10.0.0.10/255.255.255.255', '10.0.0.10/abc',
  '010.0.0.10', '10.0.0', '10.0.0.256', '10.0.0.10.1', 'ten', '', '/24', '0.1.2.3', '224.0.0.1', '239.1.1.1', '240.0.0.1',
  '255.255.255.255', '223.255.255.254', '10.0.0.1a', '10.0.0.10/24/eth0:a:b', '10.0.0.10/24/:lbl', '10.0.0.10/24//10.0.0.255',
  '10.0.0.10/24/eth0/10.0.0.999', '1.2.3.4/24/eth0//',
];

describe('parseIpSpec against hb_ipaddr_parse', () => {
  it.each(SPECS)('%s', (spec) => {
    expect(oursParse(spec)).toBe(scriptParse(spec));
  });
});

describe('helpers', () => {
  it('ipValid refuses leading zeros and out-of-range parts', () => {
    expect(ipValid('192.168.1.1')).toBe(true);
    expect(ipValid('0.0.0.0')).toBe(true);
    expect(ipValid('192.168.01.1')).toBe(false);
    expect(ipValid('1.2.3.1000')).toBe(false);
  });
  it('cidrBits takes bits or contiguous masks', () => {
    expect(cidrBits('255.255.240.0')).toBe(20);
    expect(cidrBits('255.255.0.255')).toBeUndefined();
    expect(cidrBits('0')).toBeUndefined();
  });
  it('defaultBroadcast as IPaddr computes it (none beyond /30)', () => {
    expect(defaultBroadcast('10.1.2.3', 24)).toBe('10.1.2.255');
    expect(defaultBroadcast('10.1.2.3', 30)).toBe('10.1.2.3');
    expect(defaultBroadcast('10.1.2.3', 31)).toBe('');
    expect(defaultBroadcast('10.1.2.3', 0)).toBe('255.255.255.255');
  });
  it('the log instance is the spec up to its first slash', () => {
    expect(ipInstance('IPaddr2', '10.0.0.1/24/eth0')).toBe('IPaddr2_10.0.0.1');
  });
});

describe('OUR_SCRIPT_SHA256', () => {
  it.each(Object.entries(OUR_SCRIPT_SHA256))('%s matches resource.d (edit inprocess-ip-ops.ts with the script)', (name, sum) => {
    expect(createHash('sha256').update(readFileSync(join(RD, name))).digest('hex')).toBe(sum);
  });
});
