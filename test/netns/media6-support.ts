/**
 * Shared steps of the issue 12 media and syslog tests: IPv6 addresses in a lab
 * (ULA `fd77::<i>` added without DAD, the kernel's own link-local ones),
 * ha.cf files with ucast6 / mcast6 lines, ICMPv6 echoes of a capture, and
 * patient crash / teardown helpers.
 */
import { authKeys, killOurs, killReal, waitFor, writeHaConfig, type AuthMethod } from './harness/heartbeat.js';
import type { Lab } from './harness/lab.js';
import { formatIpv6 } from '../../lib/util/inet6.js';
import { afterAll } from 'vitest';
import { killAll, TIMING } from './interop-support.js';
import { pcapFrames } from './wire-capture.js';

export type Media6 = 'ucast6' | 'ucast6-linklocal' | 'mcast6';

export const MCAST6_GROUP = 'ff12::694:1';

/** The ULA address node i gets from addUla(). */
export const ula = (i: number): string => `fd77::${i}`;

/** Adds fd77::<i>/64 to eth0 of every node (nodad: usable at once). */
export async function addUla(lab: Lab): Promise<void> {
  for (const i of lab.ids()) {
    const r = await lab.exec(i, ['ip', '-6', 'addr', 'add', `${ula(i)}/64`, 'dev', 'eth0', 'nodad']);
    if (r.code !== 0) throw new Error(`node ${i}: ip -6 addr add: ${r.stderr}`);
  }
}

/** Node i's link-local address on eth0 once duplicate address detection is over. */
export async function linkLocal(lab: Lab, i: number): Promise<string> {
  const out = await waitFor(async () => (await lab.exec(i, ['ip', '-6', '-o', 'addr', 'show', 'dev', 'eth0', 'scope', 'link'])).stdout, {
    timeoutMs: 30_000,
    what: `a usable link-local address on node ${i}`,
    until: (s) => /inet6 fe80:/.test(s) && !/tentative/.test(s),
  });
  const m = /inet6 (fe80:[0-9a-f:]+)\//.exec(out);
  if (m?.[1] === undefined) throw new Error(`node ${i}: no link-local address in ${out}`);
  return m[1];
}

export interface Cluster6 {
  media: Media6;
  auth: AuthMethod;
  ids: readonly number[];
  /** link-local addresses by node id (media 'ucast6-linklocal') */
  linkLocals?: ReadonlyMap<number, string>;
  /** more ha.cf lines (ping6 …) */
  extra?: readonly string[];
}

/** The media lines node i uses in this cluster. */
export function mediaLines(c: Cluster6, i: number): string[] {
  const peers = c.ids.filter((j) => j !== i);
  switch (c.media) {
    case 'ucast6':
      return peers.map((j) => `ucast6 eth0 ${ula(j)}`);
    case 'ucast6-linklocal':
      return peers.map((j) => `ucast6 eth0 ${c.linkLocals?.get(j) ?? 'missing'}%eth0`);
    case 'mcast6':
      return [`mcast6 eth0 ${MCAST6_GROUP} 694 1 0`];
  }
}

/** Writes ha.cf (harness layout: ha-log, ha-debug, no logd, v1) and authkeys on every node. */
export function configure6(lab: Lab, c: Cluster6): void {
  for (const i of c.ids) {
    const hacf = [
      '# ha.cf written by the IPv6 media tests',
      'logfile /var/log/ha-log',
      'debugfile /var/log/ha-debug',
      'use_logd no',
      'crm no',
      `keepalive ${TIMING.keepalive}`,
      `deadtime ${TIMING.deadtime}`,
      `initdead ${TIMING.initdead}`,
      ...mediaLines(c, i),
      'auto_failback off',
      ...c.ids.map((j) => `node ${lab.name(j)}`),
      ...(c.extra ?? []),
      '',
    ].join('\n');
    writeHaConfig(lab, i, { hacf, authkeys: authKeys(c.auth) });
  }
}

export interface Icmp6Echo {
  src: string;
  type: number;
  seq: number;
  payload: Buffer;
}

/** ICMPv6 echo messages (no extension headers) of a classic pcap file of Ethernet frames. */
export function readIcmp6Echoes(file: string): Icmp6Echo[] {
  const out: Icmp6Echo[] = [];
  for (const { frame } of pcapFrames(file)) {
    if (frame.length < 14 + 40 + 8 || frame.readUInt16BE(12) !== 0x86dd || frame[14 + 6] !== 58) continue;
    const ip = frame.subarray(14);
    const icmp = ip.subarray(40);
    const type = icmp[0] ?? 0;
    if (type !== 128 && type !== 129) continue;
    out.push({ src: formatIpv6(ip.subarray(8, 24)), type, seq: icmp.readUInt16BE(6), payload: Buffer.from(icmp.subarray(8)) });
  }
  return out;
}

/**
 * The labs of one test file: registers an afterAll that kills every daemon
 * in them (real or ours) and takes them down, also after a failure.
 */
export function labsTornDownAfterAll(): Lab[] {
  const labs: Lab[] = [];
  afterAll(async () => {
    for (const lab of labs) {
      for (const i of lab.ids()) await killAll(lab, i);
      await lab.down();
    }
  }, 120_000);
  return labs;
}

/**
 * kill -9 of whatever daemon runs on node i, again on every poll, until none
 * is left; a minute of patience (a loaded 2-core machine can keep a dying
 * process in the kernel for many seconds).
 */
export async function crashPatiently(lab: Lab, i: number): Promise<void> {
  await waitFor(async () => (await killReal(lab, i, 'SIGKILL')).length + (await killOurs(lab, i, 'SIGKILL')).length, {
    timeoutMs: 60_000,
    what: `daemons of node ${i} to die`,
    until: (n) => n === 0,
  });
}
