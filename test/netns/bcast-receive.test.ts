/**
 * Issue 12, bcast receive: 3.0.6's bcast socket is bound to 0.0.0.0 on the
 * port and tied to the interface, so it also hears datagrams unicast to the
 * node's own address. node1 (real 3.0.6) and node2 (heartbeat-ts) use
 * `bcast eth0`; node3 (real 3.0.6) only unicasts to both (`ucast eth0
 * <node1>`, `ucast eth0 <node2>`). heartbeat-ts must hear node3 exactly as
 * 3.0.6 on node1 does: node3 active with link eth0 up on both.
 */
import { describe, expect, it } from 'vitest';
import { authKeys, clStatus, writeHaConfig } from './harness/heartbeat.js';
import { Lab } from './harness/lab.js';
import { crashPatiently, labsTornDownAfterAll } from './media6-support.js';
import { diagnostics, grep, logSince, oursSeesActive, realSeesActive, start, TIMING } from './interop-support.js';

const labs = labsTornDownAfterAll();

function hacf(lab: Lab, media: readonly string[]): string {
  return [
    'logfile /var/log/ha-log', 'debugfile /var/log/ha-debug', 'use_logd no', 'crm no',
    `keepalive ${TIMING.keepalive}`, `deadtime ${TIMING.deadtime}`, `initdead ${TIMING.initdead}`,
    ...media, 'auto_failback off', ...[1, 2, 3].map((j) => `node ${lab.name(j)}`), '',
  ].join('\n');
}

describe('bcast hears unicast to the node\'s own address, as 3.0.6', () => {
  it('node3 unicasting to node1 (3.0.6, bcast) and node2 (heartbeat-ts, bcast) is active on both', async () => {
    const lab = await Lab.up({ nodes: 3 });
    labs.push(lab);
    try {
      writeHaConfig(lab, 1, { hacf: hacf(lab, ['bcast eth0']), authkeys: authKeys('sha1') });
      writeHaConfig(lab, 2, { hacf: hacf(lab, ['bcast eth0']), authkeys: authKeys('sha1') });
      writeHaConfig(lab, 3, { hacf: hacf(lab, [`ucast eth0 ${lab.ip(1)}`, `ucast eth0 ${lab.ip(2)}`]), authkeys: authKeys('sha1') });
      for (const i of [1, 2, 3]) await crashPatiently(lab, i);
      await start(lab, 1, 'real');
      await start(lab, 2, 'ours');
      await start(lab, 3, 'real');
      await realSeesActive(lab, 1, 'node3');
      await oursSeesActive(lab, 2, 'node3', 0);
      // and node3 hears both (3.0.6's ucast socket hears their broadcasts)
      await realSeesActive(lab, 3, 'node2');
      await realSeesActive(lab, 3, 'node1');
      expect((await clStatus(lab, 1, ['hblinkstatus', 'node3', 'eth0'])).stdout.trim()).toBe('up');
      expect(grep(logSince(lab, 2, 0), /ERROR|CRIT/)).toEqual([]);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${diagnostics(lab, 30)}`, { cause: err });
    }
  }, 240_000);
});
