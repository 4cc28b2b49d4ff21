/**
 * Issue 12, ping6: node1 (real 3.0.6) and node2 (heartbeat-ts) both have
 * `ping6 fd77::3`, node3 is a plain host answering ICMPv6 echo. heartbeat-ts
 * must report the ping node as 3.0.6 does: `ping` while node3 answers,
 * `dead` once its link is cut, `ping` again after the heal. The echo
 * requests of both are captured: the same payload layout and values (the
 * signed `t=NS_st st=ping info=ping6 src=<address> ts=…` message), only
 * ts and the signature differ.
 */
import { describe, expect, it } from 'vitest';
import { authKeys, clStatus, waitFor, writeHaConfig } from './harness/heartbeat.js';
import { Lab } from './harness/lab.js';
import { diagnostics, oursClStatus, oursSeesActive, realSeesActive, start, TIMING } from './interop-support.js';
import { addUla, crashPatiently, labsTornDownAfterAll, readIcmp6Echoes, ula } from './media6-support.js';
import { fieldText, layoutOf, scanNetstring, type NetstringDatagram } from './wire-capture.js';
import { join } from 'node:path';

const labs = labsTornDownAfterAll();
const PING_NODE = ula(3);

async function bothSay(lab: Lab, status: string): Promise<void> {
  const real = async (): Promise<string> => (await clStatus(lab, 1, ['nodestatus', PING_NODE])).stdout.trim();
  const ours = async (): Promise<string> => (await oursClStatus(lab, 2, ['nodestatus', PING_NODE])).stdout.trim();
  await waitFor(real, { timeoutMs: 60_000, what: `3.0.6 nodestatus ${PING_NODE} = ${status}`, until: (s) => s === status });
  await waitFor(ours, { timeoutMs: 60_000, what: `heartbeat-ts nodestatus ${PING_NODE} = ${status}`, until: (s) => s === status });
}

/** The first echo request of 3.0.6 (fd77::1) and of heartbeat-ts (fd77::2): same message but for ts and auth. */
function comparePayloads(pcap: string): void {
  const echoes = readIcmp6Echoes(pcap);
  const first = (src: string): NetstringDatagram => {
    const e = echoes.find((x) => x.src === src && x.payload.length > 0);
    expect(e, `an echo request from ${src}`).toBeDefined();
    const d = scanNetstring(e?.payload ?? Buffer.alloc(0));
    expect(d, `netstring payload from ${src}`).toBeDefined();
    return d as NetstringDatagram;
  };
  const real = first(ula(1));
  const ours = first(ula(2));
  expect(layoutOf(ours)).toBe(layoutOf(real));
  for (const f of real.fields) {
    if (f.name === 'ts' || f.name === 'auth') continue;
    expect(fieldText(ours, f.name), f.name).toBe(f.value.toString('latin1'));
  }
  expect(fieldText(real, 'info')).toBe('ping6');
  console.log(`[ping6] payload of both: ${layoutOf(real)} (info=${fieldText(real, 'info')}, src=${fieldText(real, 'src')})`);
}

describe('ping6 node status as 3.0.6 sees it', () => {
  it('ping while the address answers, dead when cut, ping after the heal', async () => {
    const lab = await Lab.up({ nodes: 3, ipv6: true });
    labs.push(lab);
    try {
      await addUla(lab);
      const hacf = [
        'logfile /var/log/ha-log', 'debugfile /var/log/ha-debug', 'use_logd no', 'crm no',
        `keepalive ${TIMING.keepalive}`, `deadtime ${TIMING.deadtime}`, `initdead ${TIMING.initdead}`,
        'bcast eth0', `ping6 ${PING_NODE}`, 'auto_failback off', 'node node1', 'node node2', '',
      ].join('\n');
      for (const i of [1, 2]) {
        writeHaConfig(lab, i, { hacf, authkeys: authKeys('sha1') });
        await crashPatiently(lab, i);
      }
      const pcap = join(lab.stateDir, 'ping6.pcap');
      await lab.pcapStart(pcap, 300, ['icmp6', 'and', 'ip6[40]', '==', '128']);
      await start(lab, 1, 'real');
      await start(lab, 2, 'ours');
      await realSeesActive(lab, 1, 'node2');
      await oursSeesActive(lab, 2, 'node1', 0);
      await bothSay(lab, 'ping');
      expect((await clStatus(lab, 1, ['nodetype', PING_NODE])).stdout.trim()).toBe('ping');
      expect((await oursClStatus(lab, 2, ['nodetype', PING_NODE])).stdout.trim()).toBe('ping');
      await lab.pcapStop();
      comparePayloads(pcap);
      await lab.cut(3);
      await bothSay(lab, 'dead');
      await lab.heal(3);
      await bothSay(lab, 'ping');
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${diagnostics(lab, 30)}`, { cause: err });
    }
  }, 300_000);
});
