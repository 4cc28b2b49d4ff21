/**
 * hb2pcmk: a Heartbeat v1 configuration (/etc/ha.d: ha.cf, authkeys,
 * haresources, heartbeat-ts.cf) as a Corosync 3 + Pacemaker 2 one, for
 * users who outgrow v1. Writes corosync.conf, a fresh authkey, the CIB, and
 * the same as crm and pcs commands; lists what it cannot translate, by
 * file and line, and then exits 1 unless --force.
 *
 *   hb2pcmk [--out DIR] [--ha-dir DIR] [--init-dir DIR] [--force] [--check]
 * (--init-dir: where the cluster's init scripts are, if not this machine's /etc/init.d)
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfiguration } from '../lib/config/load.js';
import { convert } from '../lib/migrate/convert.js';
import { cibXml, corosyncConf, crmCommands, pcsCommands } from '../lib/migrate/render.js';
import type { MigrationProblem, PcmkModel } from '../lib/migrate/model.js';
import { invokedAs, processIO, type ToolIO } from './tools/common.js';
import { checkOutput, readText, scriptPlace, stonithHostLines, stonithParamNames, writeOutput } from './tools/hb2pcmk-files.js';

const GENERATOR = 'hb2pcmk (heartbeat-ts)';
const AGENT = join(import.meta.dirname, '..', '..', 'packaging', 'ocf', 'hbscript');

interface Cli { out: string; haDir: string; initDir: string; force: boolean; check: boolean }

function parseArgs(args: readonly string[]): Cli | { error: string } | 'help' {
  const cli: Cli = { out: 'hb2pcmk-out', haDir: '/etc/ha.d', initDir: '/etc/init.d', force: false, check: false };
  for (let k = 0; k < args.length; k++) {
    const a = args[k];
    if (a === '--force') cli.force = true;
    else if (a === '--check') cli.check = true;
    else if (a === '-h' || a === '--help') return 'help';
    else if (a === '--out' || a === '--ha-dir' || a === '--init-dir') {
      const v = args[++k];
      if (v === undefined || v === '') return { error: `${a} needs a directory` };
      if (a === '--out') cli.out = v;
      else if (a === '--ha-dir') cli.haDir = v;
      else cli.initDir = v;
    } else return { error: `unknown argument: ${JSON.stringify((a ?? '').slice(0, 80))}` };
  }
  return cli;
}

function readme(m: PcmkModel, problems: readonly MigrationProblem[]): string {
  const agent = m.groups.some((g) => g.primitives.some((p) => p.agent === 'ocf:heartbeat-ts:hbscript'));
  return [
    `Written by ${GENERATOR}.`, '',
    'On every node (Debian: apt install corosync pacemaker):',
    '  install -m 644 corosync.conf /etc/corosync/corosync.conf',
    '  install -m 400 authkey /etc/corosync/authkey     # a fresh key: Heartbeat\'s authkeys cannot be reused',
    ...(agent ? ['  install -D -m 755 hbscript /usr/lib/ocf/resource.d/heartbeat-ts/hbscript'] : []),
    '  systemctl start corosync pacemaker   (after stopping heartbeat)',
    'On one node, once all are online (crm_mon -1):',
    '  cibadmin --replace --xml-file cib.xml     (or: sh crm-commands.sh, or: sh pcs-commands.sh)',
    '',
    `Timing: token ${m.tokenMs} ms + consensus ${m.consensusMs} ms, about Heartbeat's deadtime.`,
    ...(problems.length > 0 ? ['', 'Not translated (or with a caveat):', ...problems.map(describe)] : []),
    '',
  ].join('\n');
}

const describe = (p: MigrationProblem): string => `${p.file}${p.line > 0 ? `:${p.line}` : ''}: ${p.severity}: ${p.message}`;

export function hb2pcmk(args: readonly string[], io: ToolIO = processIO): number {
  const argv0 = invokedAs('hb2pcmk', process.env);
  const cli = parseArgs(args);
  if (cli === 'help') {
    io.out(`usage: ${argv0} [--out DIR] [--ha-dir /etc/ha.d] [--init-dir /etc/init.d] [--force] [--check]\n`);
    return 0;
  }
  if ('error' in cli) {
    io.err(`${argv0}: ${cli.error}\nusage: ${argv0} [--out DIR] [--ha-dir /etc/ha.d] [--init-dir /etc/init.d] [--force] [--check]\n`);
    return 2;
  }
  // Any declared node will do as "this node": the files are read for the whole cluster.
  const firstNode = /^[ \t]*node[ \t]+(\S+)/m.exec(readText(join(cli.haDir, 'ha.cf')) ?? '')?.[1];
  const loaded = loadConfiguration({ haDir: cli.haDir, offline: true, ...(firstNode !== undefined ? { nodename: firstNode } : {}) });
  const fatal = loaded.problems.filter((p) => p.severity === 'error');
  if (loaded.config === undefined || loaded.groups === undefined || fatal.length > 0) {
    for (const p of fatal) io.err(`${p.file}:${p.line}: error: ${p.message}\n`);
    io.err(`${argv0}: the Heartbeat configuration in ${cli.haDir} has errors: fix them first (heartbeat -t)\n`);
    return 6;
  }
  const { model, problems } = convert({
    config: loaded.config, groups: loaded.groups, keys: loaded.keys, hbts: loaded.hbts, files: loaded.files,
    stonithHosts: stonithHostLines(readText(loaded.files.haCf) ?? ''),
    place: scriptPlace(cli.haDir, cli.initDir), stonithParamNames,
  });
  for (const p of problems) io.err(`${describe(p)}\n`);
  const errors = problems.filter((p) => p.severity === 'error').length;
  if (errors > 0 && !cli.force) {
    io.err(`${argv0}: ${errors} thing(s) cannot be translated (above); nothing written. --force writes the rest.\n`);
    return 1;
  }
  const usesAgent = model.groups.some((g) => g.primitives.some((p) => p.agent === 'ocf:heartbeat-ts:hbscript'));
  const written = writeOutput(cli.out, {
    'corosync.conf': corosyncConf(model, GENERATOR), 'cib.xml': cibXml(model),
    'crm-commands.sh': crmCommands(model), 'pcs-commands.sh': pcsCommands(model), 'README.txt': readme(model, problems),
  }, usesAgent && existsSync(AGENT) ? AGENT : undefined);
  io.out(`${written.join('\n')}\n`);
  io.out('authkey is new: Heartbeat\'s keys cannot be reused by Corosync. Next steps: README.txt\n');
  if (!cli.check) return 0;
  let failed = false;
  for (const r of checkOutput(cli.out)) {
    io.out(`check ${r.tool}: ${r.ok === undefined ? 'skipped' : r.ok ? 'ok' : 'FAILED'}${r.output ? `\n${r.output}` : ''}\n`);
    if (r.ok === false) failed = true;
  }
  return failed ? 1 : 0;
}

if (process.argv[1] !== undefined && /hb2pcmk(\.js)?$/.test(process.argv[1])) {
  process.exitCode = hb2pcmk(process.argv.slice(2));
}
