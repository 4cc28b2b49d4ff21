/**
 * Issue 2, interop over every UDP medium with every auth method: node1 runs
 * real heartbeat 3.0.6, node2 heartbeat-ts. One lab per medium; for each of
 * crc, md5 and sha1 both daemons are reconfigured and restarted in it.
 *
 * Each side must see the other `active` with link eth0 `up`: the real node
 * through its cl_status, ours through its ha-log and its own cl_status. The
 * three media run side by side. A wrong digest on either
 * side would leave the peer silent (the real node rejects it without
 * a word at its default debug level), so this also proves each method's
 * wire encoding against libplumb's.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Lab } from './harness/lab.js';
import type { AuthMethod, Media } from './harness/heartbeat.js';
import {
  configure, crash, diagnostics, grep, killAll, logSince, logSize, oursSeesActive, realNodeStatus, realSeesActive,
  since, start,
} from './interop-support.js';

const MEDIA: readonly Media[] = ['bcast', 'ucast', 'mcast'];
const AUTHS: readonly AuthMethod[] = ['crc', 'md5', 'sha1'];
const REAL = 1;
const OURS = 2;

const labs: Lab[] = [];

afterAll(async () => {
  for (const lab of labs) {
    await killAll(lab, REAL);
    await killAll(lab, OURS);
    await lab.down();
  }
}, 120_000);

/** One medium + auth method on an existing lab: both daemons (re)started with the new configuration. */
async function round(l: Lab, media: Media, auth: AuthMethod): Promise<void> {
  // kill -9 between rounds: a graceful stop would wait for the 10 s
  // resource negotiation (RQSTDELAY) of the previous round on both sides
  await crash(l, REAL);
  await crash(l, OURS);
  configure(l, { media, auth, ids: [REAL, OURS] });
  const realAt = logSize(l, REAL);
  const oursAt = logSize(l, OURS);
  const t0 = Date.now();
  await start(l, REAL, 'real');
  await start(l, OURS, 'ours');

  await realSeesActive(l, REAL, 'node2');
  const tReal = since(t0);
  await oursSeesActive(l, OURS, 'node1', oursAt);
  console.log(`[interop ${media}+${auth}] real sees node2 active+up after ${tReal}, ours sees node1 after ${since(t0)}`);

  // Still so a few keepalives later (no flapping after the handshake).
  await new Promise((r) => setTimeout(r, 3000));
  expect(await realNodeStatus(l, REAL, 'node2')).toBe('active');
  const ours = logSince(l, OURS, oursAt);
  const real = logSince(l, REAL, realAt);
  expect(grep(ours, /node node1: is dead|Link node1:eth0 dead|ERROR|CRIT/)).toEqual([]);
  expect(grep(ours, /Comm_now_up\(\)/)).toHaveLength(1);
  // The real node never doubted us: no dead node, no replay or auth complaints.
  expect(grep(real, /node2.*(dead|replay)|returning after partition|lost packet|hist queue|[Aa]uthentication/)).toEqual([]);
}

// The three media run side by side, each in its own lab; the methods run in turn within a lab.
describe.concurrent('real heartbeat 3.0.6 (node1) and heartbeat-ts (node2): each sees the other active, link up', () => {
  for (const media of MEDIA) {
    it(`over ${media}, with crc, md5 and sha1 in turn`, async () => {
      const l = await Lab.up({ nodes: 2 });
      labs.push(l);
      for (const auth of AUTHS) {
        try {
          await round(l, media, auth);
        } catch (err) {
          throw new Error(`${media} + ${auth}: ${(err as Error).message}\n${diagnostics(l, 40)}`, { cause: err });
        }
      }
    }, 240_000);
  }
});
