#!/usr/bin/env node
/**
 * `npm run demo` — heartbeat-ts doing its job, in one command: a two-node
 * cluster in network namespaces with a floating IP and a web server, a
 * client watching who answers, a crash of the active node, the takeover
 * (timed), the node's return and auto_failback, then a full cleanup.
 *
 *   node dist/devtools/demo.js [--keep] [--keepalive MS] [--deadtime MS]
 *   node dist/devtools/demo.js --down      remove a cluster left by --keep
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Cleanup } from './lab/cleanup.js';
import {
  type ClusterSpec, crashDaemon, HA_LOG, installScripts, logTail, OURS_JS, rebootClean, startDaemon, WEB_NAME,
  writeClusterConfig,
} from './lab/hacluster.js';
import { Lab, REPO_ROOT } from './lab/lab.js';
import { labHealth, labNamespaces, readState, stateDirOf } from './lab/state.js';
import { destroyLab } from './lab/teardown.js';
import { nowMs, sleep } from './lab/proc.js';
import { ClientProbe, LogWatch, type TimedLine } from './lab/watch.js';

const LAB = 'hbdemo';
const VIP_HOST = 100;
const USAGE = `usage: node dist/devtools/demo.js [--keep] [--keepalive MS] [--deadtime MS]
       node dist/devtools/demo.js --down
  --keep        leave the cluster running at the end, with instructions
  --down        remove a cluster left running by --keep
  --keepalive   heartbeat interval in ms (default 200)
  --deadtime    silence before a node is declared dead, in ms (default 1000)`;

/** Log lines worth showing while the demo runs (the rest stays in the node's ha-log). */
const INTERESTING =
  /is dead|Resources being acquired|Taking over resource group|Acquiring resource group|Releasing resource group|Running \/etc\/ha\.d\/resource\.d\/\S+ .*(start|stop)$|Initial resource acquisition complete|wants to go standby|standby|Heartbeat restart on node|Status update for node|mach_down takeover complete|ERROR|CRIT/;

interface Options {
  keep: boolean;
  down: boolean;
  keepaliveMs: number;
  deadtimeMs: number;
}

function parseOptions(argv: string[]): Options | string {
  const o: Options = { keep: false, down: false, keepaliveMs: 200, deadtimeMs: 1000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v <= 0) throw new Error(`${a} needs a positive number of milliseconds`);
      return v;
    };
    try {
      if (a === '--keep') o.keep = true;
      else if (a === '--down') o.down = true;
      else if (a === '--keepalive') o.keepaliveMs = num();
      else if (a === '--deadtime') o.deadtimeMs = num();
      else if (a === '-h' || a === '--help') return USAGE;
      else return `unknown argument ${a}\n${USAGE}`;
    } catch (err) {
      return `${(err as Error).message}\n${USAGE}`;
    }
  }
  if (o.deadtimeMs <= 2 * o.keepaliveMs) return `--deadtime must be more than twice --keepalive (heartbeat's rule)\n${USAGE}`;
  return o;
}

/** Prints progress with the time since the demo started. */
class Narrator {
  private readonly t0 = nowMs();
  say(text: string): void {
    const s = ((nowMs() - this.t0) / 1000).toFixed(1).padStart(6);
    process.stdout.write(`[${s} s] ${text}\n`);
  }
  plain(text: string): void {
    process.stdout.write(`${text}\n`);
  }
}

const secs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

/** `heartbeat[12]: 2026/11/23_00:00:00 WARN: x` or a script's `2026/…  Tag[12]:    info: x` → `WARN: x`. */
function shortLine(text: string): string {
  return text
    .replace(/^\S+\[\d+\]: \d{4}\/\d\d\/\d\d_\d\d:\d\d:\d\d\s+/, '')
    .replace(/^\d{4}\/\d\d\/\d\d_\d\d:\d\d:\d\d\s+\S+\[\d+\]:\s+/, '')
    .replace(/^\w{3} [ \d]\d \d\d:\d\d:\d\d \S+ \S+: \[\d+\]: /, '');
}

function preflight(): string | undefined {
  if (process.getuid?.() !== 0) return 'the demo needs root (network namespaces, addresses): run it as root';
  if (!existsSync(OURS_JS)) return `${OURS_JS} is missing: run \`npm run build\` first`;
  if (!existsSync(join(REPO_ROOT, 'dist/devtools/lab/client-agent.js'))) return 'dist/devtools/lab/client-agent.js is missing: run `npm run build`';
  return undefined;
}

const labExists = (): boolean => existsSync(stateDirOf(LAB)) || labNamespaces(LAB).length > 0;

/** Refuses to disturb another demo; removes the leftovers of one that died. */
function claimLabName(n: Narrator): string | undefined {
  if (!labExists()) return undefined;
  const state = readState(LAB);
  if (state === undefined || state.purpose !== 'demo') return `a lab named ${LAB} exists that the demo did not make: remove it with \`npm run lab -- down --name ${LAB}\``;
  const health = labHealth(LAB);
  if (health === 'kept') return 'a demo cluster left by --keep is still up: remove it with `npm run demo -- --down` first';
  if (health === 'live') return `another demo is running (pid ${state.owner.pid}); wait for it or stop it`;
  n.say(`removing the leftovers of an interrupted demo (${LAB})`);
  const left = destroyLab(LAB);
  return left.length > 0 ? `could not remove the old demo lab: ${left.join('; ')}` : undefined;
}

function keepInstructions(vip: string): string {
  const bin = join(REPO_ROOT, 'bin');
  return [
    '',
    `The cluster is still running (lab "${LAB}"). Try, as root:`,
    `  export LAB_NAME=${LAB}`,
    `  npm run lab -- exec 1 ${bin}/cl_status listnodes          # node1 node2`,
    `  npm run lab -- exec 1 ${bin}/cl_status nodestatus node2   # active`,
    `  npm run lab -- exec 1 ${bin}/cl_status rscstatus          # what node1 holds: all, local, foreign or none`,
    `  npm run lab -- exec c curl -s http://${vip}/             # served by node1`,
    `  npm run lab -- exec 1 ${bin}/hb_standby                   # node1 hands everything to node2`,
    `  npm run lab -- exec 1 ${bin}/hb_takeover                  # … and takes it back`,
    `  npm run lab -- cut 1                                      # pull node1's cable; heal puts it back`,
    '  npm run lab -- shell 1                                    # a shell on node1 (uname -n, ip addr, …)',
    `  tail -f "$(npm run -s lab -- path 1 ${HA_LOG})"          # node1's log`,
    '',
    'Tear it down with:',
    `  npm run demo -- --down        (or: npm run lab -- down --name ${LAB})`,
  ].join('\n');
}

async function run(o: Options, n: Narrator, cleanup: Cleanup, held: { lab?: Lab }): Promise<void> {
  n.say('creating the lab: two nodes and a client in network namespaces, on one private bridge (Ctrl-C removes everything)');
  // a failed up removes what it built itself
  const lab = await Lab.up({ nodes: 2, name: LAB, purpose: 'demo' });
  held.lab = lab;
  cleanup.add('lab', () => {
    const left = lab.downSync();
    if (left.length > 0) n.plain(`cleanup left traces: ${left.join('; ')}`);
  });
  const vip = `${lab.subnet}.${VIP_HOST}`;
  n.say(`node1 ${lab.ip(1)}, node2 ${lab.ip(2)}, client ${lab.ip('c')}; the service address (VIP) is ${vip}`);

  const spec: ClusterSpec = {
    nodes: 2,
    keepaliveMs: o.keepaliveMs,
    deadtimeMs: o.deadtimeMs,
    initdeadMs: 10_000,
    autoFailback: true,
    auth: 'sha1',
    haresources: `node1 IPaddr::${vip}/24/eth0 ${WEB_NAME}\n`,
  };
  writeClusterConfig(lab, spec);
  for (const i of lab.ids()) installScripts(lab, i, 'ours');
  n.say(`ha.cf: bcast eth0, keepalive ${o.keepaliveMs}ms, deadtime ${o.deadtimeMs}ms, auto_failback on, sha1 authkeys`);
  n.say(`haresources: ${spec.haresources.trim()}   (${WEB_NAME}: a small web server saying which node serves)`);

  const logs = lab.ids().map((i) => new LogWatch(lab.path(i, HA_LOG), { fromStart: true, pollMs: 100 }));
  cleanup.add('log watchers', () => logs.forEach((w) => w.close()));
  logs.forEach((w, k) => w.onLine((l: TimedLine) => {
    if (INTERESTING.test(l.text)) n.say(`  node${k + 1} log │ ${shortLine(l.text)}`);
  }));

  const probe = await ClientProbe.start(lab, { url: `http://${vip}/`, intervalMs: 100, timeoutMs: 300, udpPort: 694 });
  cleanup.add('client probe', () => probe.stop());
  // Requests overlap: an old request failing after a newer one succeeded says nothing new.
  let shown = { node: '', sent: 0 };
  probe.onHttp((e) => {
    if (e.sent < shown.sent) return;
    const changed = e.node !== shown.node;
    shown = { node: e.node, sent: e.sent };
    if (!changed) return;
    n.say(e.node === '' ? `client: http://${vip}/ does not answer` : `client: http://${vip}/ is served by ${e.node}`);
  });
  n.say(`client: asking http://${vip}/ every 100 ms`);

  n.say('starting heartbeat-ts on node1 and node2 (bin/heartbeat, reading each node\'s /etc/ha.d)');
  const started = nowMs();
  await Promise.all(lab.ids().map((i) => startDaemon(lab, i, 'ours')));
  n.say('both daemons run; they find each other, then negotiate who holds what (up to 10 s when both start together)');
  const first = await probe.waitAnswer('node1', { after: started, timeoutMs: 60_000 });
  n.say(`node1 serves the VIP ${secs(first.t - started)} after the start`);
  await sleep(2000);

  // ---- crash ----
  const deadMark = logs[1]?.mark() ?? 0;
  const { pids, t: tKill } = await crashDaemon(lab, 1, 'ours');
  await lab.cut(1, 'link');
  n.say(`CRASH: heartbeat-ts on node1 killed with kill -9 (host pid ${pids.join(' ')}), node1's network cable pulled`);
  const lastHb = probe.lastUdp.get(lab.ip(1));
  const dead = await logs[1]!.wait(/node node1: is dead/, { from: deadMark, timeoutMs: o.deadtimeMs + 15_000 });
  const served = await probe.waitAnswer('node2', { after: tKill, timeoutMs: 60_000 });
  n.plain('');
  n.say(`FAILOVER: node2 answers ${secs(served.t - tKill)} after the crash`);
  if (lastHb !== undefined) n.plain(`           last heartbeat from node1 heard ${secs(tKill - lastHb)} before the crash`);
  n.plain(`           detection: ${secs(dead.t - tKill)} from the crash to "node node1: is dead" on node2 (deadtime ${o.deadtimeMs} ms)`);
  n.plain(`           takeover:  ${secs(served.t - dead.t)} from that log line to node2 answering on ${vip}`);
  n.plain('');
  await sleep(2000);

  // ---- node1 comes back ----
  n.say('node1 reboots: its processes and the VIP it still held are gone, /run is emptied; cable plugged back');
  await rebootClean(lab, 1);
  await lab.heal(1);
  const back = nowMs();
  await startDaemon(lab, 1, 'ours');
  n.say('heartbeat-ts started again on node1; with auto_failback on, node2 hands the group back');
  const home = await probe.waitAnswer('node1', { after: back, timeoutMs: 90_000 });
  n.plain('');
  n.say(`FAILBACK: node1 serves again ${secs(home.t - back)} after its daemon started`);
  const gap = probe.lastAnswerBefore('node2', home.t);
  if (gap !== undefined) n.plain(`           the service was unanswered for ${secs(home.t - gap.t)} during the hand-over`);
  n.plain('');
  await sleep(1000);

  probe.stop();
  logs.forEach((w) => w.close());
  if (o.keep) {
    lab.keep();
    cleanup.forget('lab');
    n.plain(keepInstructions(vip));
    return;
  }
  n.say('cleaning up: daemons, web servers, namespaces, bridge and state are removed');
  cleanup.runAll();
  n.say('done.');
}

async function main(argv: string[]): Promise<number> {
  const o = parseOptions(argv);
  if (typeof o === 'string') {
    process.stderr.write(`${o}\n`);
    return o === USAGE ? 0 : 2;
  }
  const n = new Narrator();
  const problem = preflight();
  if (problem !== undefined) {
    process.stderr.write(`demo: ${problem}\n`);
    return 1;
  }
  if (o.down) {
    if (!labExists()) {
      n.say('no demo cluster is up');
      return 0;
    }
    const state = readState(LAB);
    if (state?.purpose !== 'demo') {
      process.stderr.write(`demo: the lab ${LAB} was not made by the demo: remove it with \`npm run lab -- down --name ${LAB}\`\n`);
      return 1;
    }
    if (labHealth(LAB) === 'live') {
      process.stderr.write(`demo: the demo (pid ${state.owner.pid}) is still running: stop it with Ctrl-C instead\n`);
      return 1;
    }
    const left = destroyLab(LAB);
    n.say(left.length === 0 ? 'demo cluster removed' : `removal left traces: ${left.join('; ')}`);
    return left.length === 0 ? 0 : 1;
  }
  const busy = claimLabName(n);
  if (busy !== undefined) {
    process.stderr.write(`demo: ${busy}\n`);
    return 1;
  }
  const cleanup = new Cleanup((t) => process.stderr.write(`${t}\n`)).install();
  const held: { lab?: Lab } = {};
  try {
    await run(o, n, cleanup, held);
    return 0;
  } catch (err) {
    process.stderr.write(`\ndemo failed: ${(err as Error).message}\n`);
    const lab = held.lab;
    if (lab?.isUp === true) {
      for (const i of lab.ids()) {
        const tail = logTail(lab, i, 15);
        if (tail.trim() !== '') process.stderr.write(`--- node${i} ${HA_LOG}, last lines ---\n${tail}\n`);
      }
    }
    process.stderr.write('cleaning up…\n');
    return 1;
  } finally {
    cleanup.runAll();
    cleanup.uninstall();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`demo: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
