#!/usr/bin/env node
/**
 * `hb_status [--json] [--events N]`: the whole cluster on one screen, as this
 * node sees it (a heartbeat-ts addition, in the spirit of `crm_mon -1`):
 * nodes with their status, type and links, haresources groups and who holds
 * them, the last cluster events. Read through the daemon's API socket.
 * Exit: 0 shown, 1 heartbeat not running (or refusing us), 2 usage error,
 * 3 the daemon refused a query, 12 no answer within 5 s.
 */
import { HbApiClient } from './api/client.js';
import { resolvePaths, toolSocketPath } from './paths.js';
import { invokedAs, processIO, type ToolRunOptions } from './tools/common.js';
import { jsonLine } from './tools/cl-status-json.js';
import { formatSummary, readSummary } from './tools/hb-status-view.js';
import { EVENT_CAPACITY } from './overview.js';

export const EXIT_NOT_RUNNING = 1;
export const EXIT_USAGE = 2;
export const EXIT_QUERY = 3;
export const EXIT_TIMEOUT = 12;
const OVERALL_TIMEOUT_MS = 5000;
const DEFAULT_EVENTS = 10;

export function usage(argv0: string): string {
  return `usage: ${argv0} [--json] [--events N]
Shows the cluster as this node sees it: nodes (status, type, links), resource groups and who
holds them, and the last cluster events.
  --json       one JSON document on stdout (fields in the README)
  --events N   how many recent events to show (0 to ${EVENT_CAPACITY}, default ${DEFAULT_EVENTS})
Exit status: 0 shown, 1 heartbeat not running, 2 usage error, 3 query refused, 12 no answer.
`;
}

type Cli = { json: boolean; events: number } | { help: true } | { error: string };

export function parseArgs(args: readonly string[]): Cli {
  let json = false;
  let events = DEFAULT_EVENTS;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '-h' || a === '--help') return { help: true };
    if (a === '--json') json = true;
    else if (a === '--events' || a.startsWith('--events=')) {
      const v = a === '--events' ? args[++i] : a.slice('--events='.length);
      if (v === undefined || !/^\d{1,4}$/.test(v) || Number(v) > EVENT_CAPACITY) return { error: `--events: need a number from 0 to ${EVENT_CAPACITY}` };
      events = Number(v);
    } else return { error: `unknown argument: ${JSON.stringify(a.slice(0, 80))}` };
  }
  return { json, events };
}

export type HbStatusOptions = ToolRunOptions;

export async function hbStatus(args: readonly string[], o: HbStatusOptions = {}): Promise<number> {
  const io = o.io ?? processIO;
  const env = o.env ?? process.env;
  const argv0 = invokedAs('hb_status', env);
  const cli = parseArgs(args);
  if ('help' in cli) {
    io.out(usage(argv0));
    return 0;
  }
  if ('error' in cli) {
    io.err(`${argv0}: ${cli.error}\n${usage(argv0)}`);
    return EXIT_USAGE;
  }
  const fail = (code: number, reason: string): number => {
    if (cli.json) io.out(jsonLine(code === EXIT_NOT_RUNNING ? { running: false, reason } : { error: { exitCode: code, messages: [reason] } }));
    else io.err(`${argv0}: ${reason}\n`);
    return code;
  };
  const path = o.socketPath ?? toolSocketPath(resolvePaths(env));
  let api: HbApiClient;
  try {
    api = await HbApiClient.connect(path);
  } catch (err) {
    const cause = (err as { cause?: NodeJS.ErrnoException }).cause;
    return fail(EXIT_NOT_RUNNING, cause?.code === 'EACCES' ? `${path}: Permission denied (root or group haclient only)` : 'Heartbeat is stopped on this machine.');
  }
  try {
    const signon = await api.signon();
    if (!signon.ok) return fail(EXIT_NOT_RUNNING, `Heartbeat refuses the connection: ${signon.error}`);
    const s = await readSummary(api, signon.info.node, signon.info.version, cli.events);
    if (typeof s === 'string') return fail(EXIT_QUERY, s);
    io.out(cli.json ? jsonLine(s) : formatSummary(s));
    return 0;
  } finally {
    await api.signoff().catch(() => api.close());
  }
}

if (process.argv[1] !== undefined && /hb_status(\.js)?$/.test(process.argv[1])) {
  const timer = setTimeout(() => process.exit(EXIT_TIMEOUT), OVERALL_TIMEOUT_MS);
  timer.unref();
  hbStatus(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
    clearTimeout(timer);
  }, (err: unknown) => {
    process.stderr.write(`hb_status: internal error: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(13);
  });
}
