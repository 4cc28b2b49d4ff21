/**
 * The lab's network: one bridge in a "switch" network namespace of its own,
 * a veth pair per node made directly between the switch and the node (no
 * interface ever appears in the host's namespace, so lab traffic cannot
 * leave the machine), and network failures: a port taken down (the node sees
 * NO-CARRIER, like a pulled cable) or frames dropped by an nft table on the
 * bridge (silent drop, partitions, random loss).
 */
import { runCommand } from './proc.js';
import {
  bridgeOf, CLEAN_PATH, type Filters, ifnameOf, ipOf, type LabState, lansOf, lanSubnet, macOf, type NodeId, nodeNs, portOf, switchNs,
  writeState,
} from './state.js';

const NFT_TABLE = 'hblab';

/** Runs `ip` with the given lines as a batch (in netns `ns`, or the host's); throws with ip's complaint. */
export async function ipBatch(ns: string | undefined, lines: readonly string[]): Promise<void> {
  const argv = ['ip', ...(ns === undefined ? [] : ['-n', ns]), '-batch', '-'];
  const r = await runCommand(argv, { env: { PATH: CLEAN_PATH }, timeoutMs: 60_000, input: `${lines.join('\n')}\n` });
  if (r.code !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr.trim()} (commands: ${lines.join('; ')})`);
}

async function inSwitch(s: LabState, argv: readonly string[], input?: string): Promise<string> {
  const r = await runCommand(['nsenter', `--net=/run/netns/${switchNs(s.name)}`, '--', ...argv], {
    env: { PATH: CLEAN_PATH }, timeoutMs: 30_000, ...(input !== undefined ? { input } : {}),
  });
  if (r.code !== 0) throw new Error(`${argv.join(' ')} in lab ${s.name}'s switch failed: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Creates the network namespaces (switch first). */
export async function addNamespaces(s: LabState, ids: readonly NodeId[]): Promise<void> {
  await ipBatch(undefined, [`netns add ${switchNs(s.name)}`, ...ids.map((id) => `netns add ${nodeNs(s.name, id)}`)]);
  await inSwitch(s, ['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
}

/**
 * The bridges (one per LAN) and every node's cables; addresses set with
 * "brd +" (like ifupdown or DHCP would): heartbeat's bcast sends to the
 * interface's broadcast address, 0.0.0.0 without one.
 */
export async function wire(s: LabState, ids: readonly NodeId[]): Promise<void> {
  const lans = Array.from({ length: lansOf(s) }, (_, k) => k);
  const sw = ['link set lo up'];
  for (const lan of lans) {
    const br = bridgeOf(lan);
    // mcast_snooping 0: multicast is flooded, so it works without an IGMP querier
    sw.push(`link add ${br} type bridge stp_state 0 forward_delay 0 mcast_snooping 0`, `link set ${br} up`);
    for (const id of ids) {
      const p = portOf(id, lan);
      sw.push(`link add ${p} type veth peer name ${ifnameOf(lan)} netns ${nodeNs(s.name, id)}`, `link set ${p} master ${br}`, `link set ${p} up`);
    }
  }
  await ipBatch(switchNs(s.name), sw);
  await Promise.all(
    ids.map((id) =>
      ipBatch(nodeNs(s.name, id), [
        'link set lo up',
        ...lans.flatMap((lan) => [
          `link set ${ifnameOf(lan)} address ${macOf(lanSubnet(s.subnet, lan), id)}`,
          `addr add ${ipOf(s.subnet, id, lan)}/24 brd + dev ${ifnameOf(lan)}`,
          `link set ${ifnameOf(lan)} up`,
        ]),
      ]),
    ),
  );
}

/** Switch ports of nodes up or down (down = the node sees NO-CARRIER), on one LAN or on all. */
export async function setPorts(s: LabState, ids: readonly NodeId[], up: boolean, lan?: number): Promise<void> {
  const lans = lan === undefined ? Array.from({ length: lansOf(s) }, (_, k) => k) : [lan];
  await ipBatch(switchNs(s.name), lans.flatMap((l) => ids.map((id) => `link set ${portOf(id, l)} ${up ? 'up' : 'down'}`)));
}

export const noFilters = (): Filters => ({ drop: [], loss: {}, partition: [] });

/** The nft rules for the filters (pure): one forward chain on the bridges; a node's filters hold on all its LANs. */
export function filterRules(f: Filters, lans = 1): string[] {
  const rules: string[] = [];
  const add = (match: string, what: string): void => {
    rules.push(`add rule bridge ${NFT_TABLE} labfwd ${match} drop comment "${what}"`);
  };
  const port = (key: string): string => {
    const names = Array.from({ length: lans }, (_, lan) => `"${portOf(key === 'c' ? 'c' : Number(key), lan)}"`);
    return names.length === 1 ? (names[0] ?? '') : `{ ${names.join(', ')} }`;
  };
  for (const k of f.drop) {
    add(`iifname ${port(k)}`, 'cut');
    add(`oifname ${port(k)}`, 'cut');
  }
  for (const [k, pct] of Object.entries(f.loss)) {
    // numgen random mod 100 yields 0..99: "< 100" would be rejected, and 100 % is a plain drop
    const chance = pct >= 100 ? '' : `numgen random mod 100 < ${pct} `;
    add(`iifname ${port(k)} ${chance}`.trimEnd(), 'loss');
    add(`oifname ${port(k)} ${chance}`.trimEnd(), 'loss');
  }
  f.partition.forEach((ga, i) =>
    f.partition.forEach((gb, j) => {
      if (i === j) return;
      for (const a of ga) for (const b of gb) add(`iifname ${port(a)} oifname ${port(b)}`, 'partition');
    }),
  );
  return rules;
}

/** Replaces the switch's nft table with the filters (one atomic nft transaction). */
export async function applyFilters(s: LabState): Promise<void> {
  const script = [
    `table bridge ${NFT_TABLE}`,
    `delete table bridge ${NFT_TABLE}`,
    `table bridge ${NFT_TABLE} {`,
    '  chain labfwd { type filter hook forward priority 0; policy accept; }',
    '}',
    ...filterRules(s.filters, lansOf(s)),
  ].join('\n');
  await inSwitch(s, ['nft', '-f', '-'], `${script}\n`);
}

/**
 * Changes the filters, applies them and records them; a change nft refuses
 * is rolled back, so state on disk always matches the switch.
 */
export async function changeFilters(s: LabState, change: (f: LabState['filters']) => void): Promise<void> {
  const before = JSON.stringify(s.filters);
  change(s.filters);
  try {
    await applyFilters(s);
  } catch (err) {
    s.filters = JSON.parse(before) as LabState['filters'];
    throw err;
  }
  writeState(s);
}

/** Clears a node's drop and loss, or (no key) every filter and partition. */
export function healFilters(f: LabState['filters'], key?: string): void {
  if (key === undefined) {
    Object.assign(f, noFilters());
    return;
  }
  f.drop = f.drop.filter((k) => k !== key);
  delete f.loss[key];
}

/** The switch's view for `status`: the state of every node's port, on every LAN. */
export async function switchStatus(s: LabState): Promise<string> {
  return inSwitch(s, ['ip', '-br', 'link', 'show', 'type', 'veth']);
}
