/**
 * Shared steps of the IPv6 media tests (issue 12): IPv6 addresses in a lab
 * (ULA `fd77::<i>` added without DAD, the kernel's own link-local ones), and
 * ha.cf files with ucast6 / mcast6 / ping6 lines for a cluster of nodes.
 */
import { authKeys, waitFor, writeHaConfig, type AuthMethod } from './harness/heartbeat.js';
import type { Lab } from './harness/lab.js';
import { TIMING } from './interop-support.js';

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
