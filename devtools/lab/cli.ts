#!/usr/bin/env node
/**
 * `npm run lab -- <command>`: the project's network lab by hand. A lab made
 * by `up` outlives this process (it is marked "kept": no sweep removes it)
 * until `down`. Later commands find it by --name, $LAB_NAME, or as the only
 * lab on the machine.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Lab, type NodeId } from './lab.js';
import { existingLabNames, LAB_NAME_RE, labHealth, labNamespaces, readState, stateDirOf } from './state.js';
import { describeLabs } from './status.js';
import { destroyLab, sweepStale } from './teardown.js';

const DEFAULT_NAME = 'hblab';
export const USAGE = `usage: npm run lab -- [--name NAME] COMMAND …   (as root; NAME also from $LAB_NAME)
  up N [--subnet A.B.C] [--lans K] [--private PATH[:copy|:empty]]… [--ipv6] [--owner PID]
                         nodes 1..N (node1… at A.B.C.11…) and client c (A.B.C.9) on one bridge
                         (--lans K, 1..4: K bridges, LAN k on eth<k> at A.B.(C+k).x);
                         default name ${DEFAULT_NAME}, subnet 10.77.0; it stays until down, or with
                         --owner until process PID is gone (then any sweep removes it)
  down                   remove the lab: processes, namespaces, bridge, mounts, state
  list                   every lab on this machine, its owner and health (live, kept, stale)
  sweep                  remove the stale labs (owner gone, not kept)
  status                 nodes, addresses, links, processes, filters, capture
  exec ID CMD…           run CMD in node ID (1..N, c; sw = the switch's netns), exit with its status
  shell ID               interactive shell in node ID
  cut ID [link|drop] [LAN]  link: pull the cable (NO-CARRIER, default; only LAN's when given); drop: frames silently dropped
  heal [ID]              undo cut/loss of ID, or everything and any partition
  partition IDS IDS…     split the LAN into groups, e.g. partition 1 2,3,c
  loss ID PCT            drop PCT % (0..100) of ID's frames at random; 0 clears
  capture FILE [SECONDS] [FILTER…]   capture on the bridge into FILE (pcap) until SECONDS or Ctrl-C
  capture-start FILE [SECONDS] [FILTER…]  the same in the background; capture-stop ends it
  ps ID                  processes of node ID (host PIDs)
  pids ID [COMM]         their host PIDs only (optionally only those named COMM)
  ip ID [LAN]            node ID's address (on LAN, default 0)
  path ID [PATH]         host path of node ID's private copy of PATH`;

/** Commands about one existing lab (up, down, list, sweep and help are handled first). */
const LAB_COMMANDS = [
  'status', 'exec', 'shell', 'cut', 'heal', 'partition', 'loss', 'capture', 'capture-start', 'capture-stop', 'ps', 'pids', 'ip', 'path',
];

class UsageError extends Error {}

interface Parsed {
  name: string | undefined;
  cmd: string;
  args: string[];
}

function parseGlobal(argv: string[]): Parsed {
  let name = process.env['LAB_NAME'];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--name' && rest.length < 2) name = argv[++i];
    else rest.push(a);
  }
  if (name !== undefined && !LAB_NAME_RE.test(name)) throw new UsageError(`bad lab name ${name}: 2-12 lower-case letters and digits`);
  const [cmd = 'help', ...args] = rest;
  return { name, cmd, args };
}

/** The lab a command is about: the named one, else the only one, else the default name. */
function pick(name: string | undefined): Lab {
  if (name !== undefined) return Lab.attach(name);
  const labs = existingLabNames().filter((n) => readState(n) !== undefined);
  if (labs.length === 1 && labs[0] !== undefined) return Lab.attach(labs[0]);
  if (labs.includes(DEFAULT_NAME) || labs.length === 0) return Lab.attach(DEFAULT_NAME);
  throw new UsageError(`several labs are up (${labs.join(' ')}): choose one with --name NAME`);
}

function nodeId(lab: Lab, s: string | undefined): NodeId {
  const id: NodeId = s === 'c' || s === 'client' ? 'c' : Number(s);
  if (id !== 'c' && !(Number.isInteger(id) && id >= 1 && id <= lab.nodes)) throw new UsageError(`bad node id ${s ?? '(none)'}: 1..${lab.nodes} or c`);
  return id;
}

async function up(name: string | undefined, args: string[]): Promise<number> {
  const nodes = Number(args[0]);
  if (!Number.isInteger(nodes) || nodes < 1) throw new UsageError('up needs a number of nodes');
  const priv: string[] = [];
  let subnet: string | undefined;
  let ipv6 = false;
  let lans = 1;
  let owner: number | undefined;
  for (let i = 1; i < args.length; i++) {
    const a = args[i];
    if (a === '--private') priv.push(args[++i] ?? '');
    else if (a === '--owner') owner = Number(args[++i]);
    else if (a === '--subnet') subnet = args[++i];
    else if (a === '--ipv6') ipv6 = true;
    else if (a === '--lans') lans = Number(args[++i]);
    else throw new UsageError(`up: unknown argument ${a}`);
  }
  const lab = await Lab.up({ nodes, name: name ?? DEFAULT_NAME, purpose: 'cli', private: priv, ipv6, lans, ...(subnet !== undefined ? { subnet } : {}) });
  if (owner === undefined) lab.keep();
  else lab.handOver(owner);
  process.stdout.write(`lab ${lab.labName} up\n${await lab.status()}`);
  return 0;
}

/** Runs argv with this terminal (exec, shell, capture), returning its exit status. */
function foreground(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(argv[0] ?? 'false', argv.slice(1), { stdio: 'inherit', env });
    // Ctrl-C goes to the whole foreground group: the command handles it, we wait for it
    const ignore = (): void => undefined;
    process.on('SIGINT', ignore);
    child.on('exit', (code, signal) => {
      process.off('SIGINT', ignore);
      resolve(code ?? (signal !== null ? 128 + 2 : 1));
    });
    child.on('error', (e) => {
      process.stderr.write(`lab: ${e.message}\n`);
      resolve(127);
    });
  });
}

async function failures(lab: Lab, cmd: string, args: string[]): Promise<number | undefined> {
  switch (cmd) {
    case 'cut': {
      const mode = args[1] ?? 'link';
      if (mode !== 'link' && mode !== 'drop') throw new UsageError('cut ID [link|drop] [LAN]');
      await lab.cut(nodeId(lab, args[0]), mode, args[2] === undefined ? undefined : Number(args[2]));
      return 0;
    }
    case 'heal':
      await lab.heal(args[0] === undefined ? undefined : nodeId(lab, args[0]));
      return 0;
    case 'partition':
      if (args.length < 2) throw new UsageError('partition IDS IDS… (e.g. partition 1 2,3,c)');
      await lab.partition(args.map((g) => g.split(',').map((x) => nodeId(lab, x))));
      return 0;
    case 'loss':
      await lab.loss(nodeId(lab, args[0]), Number(args[1]));
      return 0;
    default:
      return undefined;
  }
}

async function views(lab: Lab, cmd: string, args: string[]): Promise<number | undefined> {
  const out = (s: string): number => {
    process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
    return 0;
  };
  switch (cmd) {
    case 'status':
      return out(await lab.status());
    case 'ps':
      return out(await lab.ps(nodeId(lab, args[0])));
    case 'pids':
      return out((await lab.pids(nodeId(lab, args[0]), args[1])).join('\n'));
    case 'ip':
      return out(lab.ip(nodeId(lab, args[0]), Number(args[1] ?? '0')));
    case 'path':
      return out(args[1] === undefined ? `${lab.stateDir}/nodes/${nodeId(lab, args[0])}/root` : lab.path(nodeId(lab, args[0]), args[1]));
    default:
      return undefined;
  }
}

/** Spellings of the external netns-lab script this CLI replaces. */
const ALIASES: Record<string, string> = { pcap: 'capture', 'pcap-start': 'capture-start', 'pcap-stop': 'capture-stop' };

async function processes(lab: Lab, cmd: string, args: string[]): Promise<number | undefined> {
  const target = (s: string | undefined): NodeId | 'sw' => (s === 'sw' ? 'sw' : nodeId(lab, s));
  switch (ALIASES[cmd] ?? cmd) {
    case 'exec': {
      const id = target(args[0]);
      if (args.length < 2) throw new UsageError('exec ID CMD…');
      return foreground(lab.enter(id, args.slice(1)), lab.envFor(id));
    }
    case 'shell': {
      const id = target(args[0]);
      return foreground(lab.enter(id, [process.env['SHELL'] ?? '/bin/bash', '-i']), lab.envFor(id));
    }
    case 'capture': {
      if (args[0] === undefined) throw new UsageError('capture FILE [SECONDS] [FILTER…]');
      const { captureArgv } = await import('./capture.js');
      const code = await foreground(captureArgv(lab.labName, args[0], { seconds: Number(args[1] ?? 30), filter: args.slice(2) }), { PATH: process.env['PATH'] });
      return code === 124 || code === 130 ? 0 : code;
    }
    case 'capture-start':
      if (args[0] === undefined) throw new UsageError('capture-start FILE [SECONDS] [FILTER…]');
      await lab.pcapStart(args[0], Number(args[1] ?? 300), args.slice(2));
      process.stdout.write(`capturing into ${args[0]}; stop with: npm run lab -- capture-stop\n`);
      return 0;
    case 'capture-stop':
      await lab.pcapStop();
      return 0;
    default:
      return undefined;
  }
}

async function main(argv: string[]): Promise<number> {
  const { name, cmd, args } = parseGlobal(argv);
  if (cmd === 'help' || cmd === '-h' || cmd === '--help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (cmd === 'list') {
    process.stdout.write(describeLabs());
    return 0;
  }
  if (process.getuid?.() !== 0) throw new Error('the lab needs root (namespaces, mounts)');
  if (cmd === 'up') return up(name, args);
  if (cmd === 'sweep') {
    const swept = sweepStale();
    process.stdout.write(swept.length > 0 ? `removed stale labs: ${swept.join(' ')}\n` : 'no stale labs\n');
    return 0;
  }
  if (cmd === 'down') return down(name);
  if (!LAB_COMMANDS.includes(ALIASES[cmd] ?? cmd)) throw new UsageError(`unknown command ${cmd}`);
  const lab = pick(name);
  for (const group of [failures, views, processes]) {
    const code = await group(lab, cmd, args);
    if (code !== undefined) return code;
  }
  throw new UsageError(`unknown command ${cmd}`);
}

/** Removes the lab; refuses one whose owner still runs it (a test, the demo). */
function down(name: string | undefined): number {
  const target = name ?? pick(undefined).labName;
  if (!existsSync(stateDirOf(target)) && labNamespaces(target).length === 0) throw new Error(`no lab named ${target}`);
  const health = labHealth(target);
  if (health === 'live') {
    const s = readState(target);
    throw new Error(`lab ${target} belongs to a running process (pid ${s?.owner.pid ?? '?'}, ${s?.purpose ?? '?'}): it removes its lab itself`);
  }
  const left = destroyLab(target);
  if (left.length > 0) throw new Error(`down of ${target} left traces: ${left.join('; ')}`);
  process.stdout.write(`lab ${target} down\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`lab: ${(err as Error).message}\n`);
    if (err instanceof UsageError) process.stderr.write(`${USAGE}\n`);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
