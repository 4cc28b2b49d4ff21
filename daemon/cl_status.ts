#!/usr/bin/env node
/**
 * `cl_status` — heartbeat's status tool (spec 11.3) over the heartbeat-ts
 * API socket. Exit codes: 0 ok, 1 normal failure (e.g. heartbeat stopped,
 * node dead), 2/3 client join/leave, 11 parameter error, 12 timeout (the
 * whole run is limited to 5 s, as heartbeat's alarm), 13 other errors.
 *
 * Our addition: `--json` after any documented sub-command prints one JSON
 * document instead of text, same exit codes, errors as a JSON document too
 * (./tools/cl-status-json.ts). Nodes (and links) come in the same order as
 * the text output (the reverse of ha.cf).
 */
import { HbApiClient, type SignonResult } from './api/client.js';
import { resolvePaths, toolSocketPath } from './paths.js';
import { processIO, stderrLogLine, type ToolIO, type ToolRunOptions } from './tools/common.js';
import { JsonCapture, takeJsonFlag } from './tools/cl-status-json.js';
import { COMMANDS, JSON_COMMANDS, NORMAL_FAIL, PARAMETER_ERROR, TIMEOUT, type CmdContext, type Command } from './tools/cl-status-cmds.js';

export const USAGE = `Usage: cl_status <sub-command> [<options>] [<parameters>]

Sub-commands:
clientstatus <node-name> <client-id> [<timeout>]
\tShow the status of heartbeat clients.
hblinkstatus <node-name> <link-name>
\tShow the status of a heartbeat link
hbstatus
\tIndicate if heartbeat is running on the local system.
\tOptions:
\t\t-v\tverbose: also add "listnodes -v" output
listnodes [<option>]
\tList the nodes in the cluster.
\tOptions:
\t\t-p\tlist only 'ping' type nodes
\t\t-n\tlist only 'normal' type nodes
\t\t-v\tverbose: also list type and status,
\t\t\tthen add "listhblinks -v" output
listhblinks <node-name>
\tList the network interfaces used as hearbeat links.
\tOptions:
\t\t-v\tverbose: list link status as well
nodestatus <node-name>
\tList the node status.
nodeweight <node-name>
\tList the node weight.
nodesite <node-name>
\tList the node site.
nodetype <node-name>
\tList the nodes of a given type.
rscstatus
\tShow the status of cluster resources.
hbparameter -p <parameter-name>
\tRetrieve the value of a cluster parameter.
\tAs for the valid parameter names, please refer to the man page.
`;

/** The whole run is bounded, as heartbeat's cl_status bounds it with alarm(5). */
export const OVERALL_TIMEOUT_MS = 5000;
const CANNOT_CONNECT = "hb_api_signon: Can't initiate connection to heartbeat";

export type ClStatusOptions = ToolRunOptions;

/** Runs cl_status with `args` (without the program name); resolves to the exit code. */
export async function clStatus(args: readonly string[], o: ClStatusOptions = {}): Promise<number> {
  const base = o.io ?? processIO;
  const env = o.env ?? process.env;
  const first = args[0];
  if (first === undefined || (args.length === 1 && first.startsWith('-h'))) {
    base.out(USAGE);
    return 0;
  }
  const cmd = Object.prototype.hasOwnProperty.call(COMMANDS, first) ? COMMANDS[first] : undefined;
  const { json, rest } = cmd === undefined || JSON_COMMANDS.has(first) ? takeJsonFlag(args) : { json: false, rest: [...args] };
  const capture = json ? new JsonCapture(base) : undefined;
  const io = capture?.io ?? base;
  if (!cmd) {
    io.err(stderrLogLine('cl_status', 'error', `${first}: invalid sub-command.`));
    return capture ? capture.finish(PARAMETER_ERROR) : PARAMETER_ERROR;
  }
  const code = await runCommand(cmd, rest, { io, env, json, path: o.socketPath ?? toolSocketPath(resolvePaths(env)) });
  return capture ? capture.finish(code) : code;
}

/** Signs on (as heartbeat's cl_status does before any sub-command) and runs `cmd`. */
async function runCommand(cmd: Command, rest: string[], o: { io: ToolIO; env: NodeJS.ProcessEnv; json: boolean; path: string }): Promise<number> {
  const { io, env, json, path } = o;
  let api: HbApiClient | null = null;
  let signon: SignonResult | null = null;
  let reason = '';
  try {
    api = await HbApiClient.connect(path);
    signon = await api.signon();
    if (!signon.ok) reason = signon.error;
  } catch (err) {
    reason = CANNOT_CONNECT;
    // The socket is there but its directory (0750 hacluster:haclient) keeps us
    // out: heartbeat runs; say so rather than "stopped" (Debian's cl_status is
    // setgid haclient and never meets this; ours is a script).
    const cause = (err as { cause?: NodeJS.ErrnoException }).cause;
    if (cause?.code === 'EACCES') {
      reason = `${path}: Permission denied (only root and members of group haclient may use heartbeat's API)`;
      signon = { ok: false, code: 'API_AUTH', error: reason, deadtimeMs: -1 };
    }
  }
  const signedOn = signon?.ok === true;
  if (!signedOn && cmd.needsSignon) {
    io.err(stderrLogLine('cl_status', 'error', 'Cannot signon with heartbeat'));
    io.err(stderrLogLine('cl_status', 'error', `REASON: ${reason}`));
    api?.close();
    return NORMAL_FAIL;
  }
  const ctx: CmdContext = { io, api: signedOn ? api : null, signon, signonReason: reason, human: false, json, env };
  try {
    return await cmd.run(ctx, rest);
  } finally {
    if (signedOn) await api?.signoff();
    else api?.close();
  }
}

async function main(): Promise<void> {
  const timer = setTimeout(() => process.exit(TIMEOUT), OVERALL_TIMEOUT_MS);
  timer.unref();
  const code = await clStatus(process.argv.slice(2));
  process.exitCode = code;
  clearTimeout(timer);
}

if (process.argv[1] !== undefined && /cl_status(\.js)?$/.test(process.argv[1])) {
  main().catch((err: unknown) => {
    process.stderr.write(stderrLogLine('cl_status', 'error', `internal error: ${(err as Error).stack ?? String(err)}`));
    process.exit(13);
  });
}
