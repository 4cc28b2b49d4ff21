/**
 * Fast start (heartbeat-ts.cf `fast_start`, on by default when the file
 * exists): RQSTDELAY — the 10 s both starting nodes wait before taking their
 * own groups — exists for clusters with 3.0.6 nodes in them. Our `starting`
 * and `resource` messages say we skip it (a field 3.0.6 ignores); once every
 * other configured node has said the same and told its holdings, this node
 * skips it too (on the next turn, after the message that completed it). One 3.0.6
 * node (or one heartbeat-ts node without the file) and the wait is 3.0.6's.
 */
import type { Cluster } from '../membership/cluster.js';
import type { ResourceController } from '../resources/controller.js';
import { F, T } from '../wire/fields.js';
import type { HaMsg } from '../wire/message.js';

const CARRIERS: ReadonlySet<string> = new Set([T.STARTING, T.RESOURCE]);

/** Marks our own `starting`/`resource` messages. */
export function advertiseFastStart(m: HaMsg): HaMsg {
  if (CARRIERS.has(m.get(F.TYPE) ?? '') && !m.has(F.HBTS_FAST_START)) m.add(F.HBTS_FAST_START, '1');
  return m;
}

/** Follows the peers' marks on `c`; returns what stops following. */
export function watchFastStart(c: Cluster, o: { me: string; nodes: readonly string[]; controller: ResourceController }): () => void {
  const me = o.me.toLowerCase();
  const others = new Set(o.nodes.map((n) => n.toLowerCase()).filter((n) => n !== me));
  const fast = new Set<string>();
  // Peers whose holdings (a `resource`) came after their last `starting`:
  // deciding without the wait is only safe once every peer has told them.
  const told = new Set<string>();
  let done = others.size === 0;
  const onMessage = (msg: HaMsg, from: string, local: boolean): void => {
    const type = msg.get(F.TYPE) ?? '';
    if (done || local || !CARRIERS.has(type)) return;
    const who = from.toLowerCase();
    if (!others.has(who)) return;
    if (msg.get(F.HBTS_FAST_START) === '1') fast.add(who);
    else fast.delete(who);
    if (type === T.RESOURCE) told.add(who);
    else told.delete(who);
    if (fast.size < others.size || told.size < others.size) return;
    done = true;
    o.controller.expediteStart();
  };
  c.on('message', onMessage);
  return () => { c.off('message', onMessage); };
}
