/**
 * The sub-commands of cl_status (spec 11.3), with the outputs, messages and
 * exit codes of heartbeat 3.0.6's tool: options are parsed by getopt over
 * `<sub-command> <args…>`, `-m` (anywhere) gives sentences for people,
 * parameter errors exit 11, API failures log `Cannot …` / `REASON: …` and
 * exit 13. The node list comes back in reverse order, as heartbeat's client
 * library builds it by prepending; so does the link list.
 */
import type { HbApiClient, SignonResult } from '../api/client.js';
import type { LinkEntry, NodeEntry } from '../api/types.js';
import { monitorLine } from './cl-status-monitors.js';
import { getopt, type GetoptItem } from './getopt.js';
import { stderrLogLine, type ToolIO } from './common.js';
import { jsonLine } from './cl-status-json.js';

export const OK = 0;
export const NORMAL_FAIL = 1;
export const PARAMETER_ERROR = 11;
export const TIMEOUT = 12;
export const UNKNOWN_ERROR = 13;

export interface CmdContext {
  io: ToolIO;
  /** null when signon failed (only hbstatus runs then). */
  api: HbApiClient | null;
  signon: SignonResult | null;
  /** Why signon failed, as heartbeat's client library words it. */
  signonReason: string;
  /** `-m` seen by any getopt call so far (heartbeat keeps it in a global). */
  human: boolean;
  json: boolean;
  env: NodeJS.ProcessEnv;
}

export interface Command {
  optstring: string | null;
  needsSignon: boolean;
  run(ctx: CmdContext, args: string[]): Promise<number>;
}

function logError(ctx: CmdContext, msg: string): void {
  ctx.io.err(stderrLogLine('cl_status', 'error', msg));
}

/** Runs getopt; `-m` sets the human flag. Stops at the first error when `strict`. */
function options(ctx: CmdContext, args: string[], optstring: string, strict: boolean, what: 'character' | 'character code'):
  { ok: true; items: GetoptItem[]; operands: string[] } | { ok: false } {
  const r = getopt(args, optstring, ctx.env);
  const items: GetoptItem[] = [];
  for (const it of r.items) {
    if (it.kind === 'error') {
      ctx.io.err(`${it.message}\n`);
      if (strict) {
        logError(ctx, `Error: getopt returned${what} ?.`);
        return { ok: false };
      }
      continue;
    }
    if (it.option === 'm') ctx.human = true;
    items.push(it);
  }
  return { ok: true, items, operands: r.operands };
}

/** general_simple_opt_deal: only -m is known. */
function simple(ctx: CmdContext, args: string[], optstring: string): string[] | undefined {
  const r = options(ctx, args, optstring, true, 'character');
  return r.ok ? r.operands : undefined;
}

function reversed<T>(list: readonly T[]): T[] {
  return [...list].reverse();
}

/** Heartbeat's iflist: prepended, duplicates dropped. */
function linkOrder(links: readonly LinkEntry[]): LinkEntry[] {
  const seen: LinkEntry[] = [];
  for (const l of links) if (!seen.some((s) => s.name === l.name)) seen.unshift(l);
  return seen;
}

async function listLinks(ctx: CmdContext, host: string, verbose: boolean): Promise<number> {
  const r = await ctx.api!.ifList(host);
  if (!r.ok) {
    logError(ctx, 'Cannot start heartbeat link interface walk.');
    logError(ctx, `REASON: ${r.error}`);
    return UNKNOWN_ERROR;
  }
  if (ctx.json) {
    ctx.io.out(jsonLine({ node: host, links: linkOrder(r.value) }));
    return OK;
  }
  if (ctx.human) ctx.io.out('\tthis node has the following heartbeat links:\n');
  for (const l of linkOrder(r.value)) ctx.io.out(verbose ? `\t${l.name}\t${l.status}\n` : `\t${l.name}\n`);
  return OK;
}

interface JsonNode extends NodeEntry {
  links: LinkEntry[];
}

async function jsonNodes(ctx: CmdContext, nodes: NodeEntry[]): Promise<JsonNode[] | undefined> {
  const out: JsonNode[] = [];
  for (const n of nodes) {
    const links = await ctx.api!.ifList(n.name);
    if (!links.ok) return undefined;
    out.push({ ...n, links: linkOrder(links.value) });
  }
  return out;
}

async function listNodes(ctx: CmdContext, normalOnly: boolean, pingOnly: boolean, verbose: boolean): Promise<number> {
  const r = await ctx.api!.nodeList();
  if (!r.ok) {
    logError(ctx, 'Cannot start node walk.');
    logError(ctx, `REASON: ${r.error}`);
    return UNKNOWN_ERROR;
  }
  const both = normalOnly && pingOnly;
  const nodes = reversed(r.value).filter((n) => both || (!normalOnly || n.type === 'normal') && (!pingOnly || n.type === 'ping'));
  if (ctx.json) {
    const full = await jsonNodes(ctx, nodes);
    if (!full) return UNKNOWN_ERROR;
    ctx.io.out(`${JSON.stringify(full)}\n`);
    return OK;
  }
  if (ctx.human) ctx.io.out('The nodes are as follow:\n');
  for (const n of nodes) {
    if (!verbose) {
      ctx.io.out(`${n.name}\n`);
      continue;
    }
    ctx.io.out(`\n${n.name}\t${n.status}\t(nodetype: ${n.type})\n`);
    const rc = await listLinks(ctx, n.name, true);
    if (rc !== OK) return rc;
  }
  return OK;
}

/** heartbeat's cl_str_to_boolean: a recognised false word means "not pacemaker". */
function pacemakerEnabled(value: string | undefined): boolean {
  if (value === undefined) return true;
  const v = value.toLowerCase();
  if (['false', 'off', 'no', 'n', '0'].includes(v)) return false;
  return true;
}

const hbstatus: Command = {
  optstring: 'mv',
  needsSignon: false,
  async run(ctx, args) {
    const r = options(ctx, args, 'mv', false, 'character');
    const verbose = r.ok && r.items.some((i) => i.option === 'v');
    if (!ctx.signon?.ok) {
      const refused = ctx.signon !== null && !ctx.signon.ok && ctx.signon.deadtimeMs !== 0;
      if (ctx.json) {
        ctx.io.out(`${JSON.stringify(refused ? { running: true, refused: true, reason: ctx.signonReason } : { running: false, reason: ctx.signonReason })}\n`);
        return refused ? OK : NORMAL_FAIL;
      }
      ctx.io.out(refused ? 'Heartbeat is apparently running on this machine, but refuses my connection\n' : 'Heartbeat is stopped on this machine.\n');
      if (verbose && ctx.signonReason !== '') ctx.io.out(`(${ctx.signonReason})\n`);
      return refused ? OK : NORMAL_FAIL;
    }
    const info = ctx.signon.info;
    const pacemaker = (await ctx.api!.parameter('pacemaker'));
    const pcmkValue = pacemaker.ok ? pacemaker.value : undefined;
    const pcmk = pacemakerEnabled(pcmkValue);
    if (ctx.json) {
      const nodes = await ctx.api!.nodeList();
      const full = nodes.ok ? await jsonNodes(ctx, reversed(nodes.value)) : undefined;
      if (!full) return UNKNOWN_ERROR;
      ctx.io.out(`${JSON.stringify({ running: true, version: info.version, managedBy: pcmk ? 'pacemaker' : 'haresources', node: info.node, nodes: full })}\n`);
      return OK;
    }
    if (!verbose) {
      ctx.io.out('Heartbeat is running on this machine.\n');
      return OK;
    }
    const version = await ctx.api!.parameter('hbversion');
    const v = version.ok ? version.value : undefined;
    if (ctx.human) {
      ctx.io.out(v !== undefined ? `Heartbeat version ${v}\n` : 'Heartbeat is running on this machine.\n');
      ctx.io.out(pcmk ? 'Resources controlled by Pacemaker.\n' : 'Resources controlled by "haresources"\n');
    } else {
      ctx.io.out(`version:\t${v ?? 'unknown'}\n`);
      ctx.io.out(pcmk ? `managed by:\tpacemaker\t(${pcmkValue ?? '(null)'})\n` : 'managed by:\t"haresources"\n');
    }
    await listNodes(ctx, false, false, true);
    return OK;
  },
};

const listnodes: Command = {
  optstring: 'mpnv',
  needsSignon: true,
  async run(ctx, args) {
    const r = options(ctx, args, 'mpnv', true, 'character code');
    if (!r.ok) return PARAMETER_ERROR;
    const has = (c: string): boolean => r.items.some((i) => i.option === c);
    return listNodes(ctx, has('n'), has('p'), has('v'));
  },
};

/** nodestatus / nodetype / nodeweight / nodesite: one node, one value. */
function nodeCommand(
  kind: 'status' | 'type' | 'weight' | 'site',
  missing: string,
  unknown: string,
  sentence: (node: string, v: string) => string,
): Command {
  return {
    optstring: 'm',
    needsSignon: true,
    async run(ctx, args) {
      const ops = simple(ctx, args, 'm');
      if (!ops) return PARAMETER_ERROR;
      const node = ops[0];
      if (node === undefined) {
        ctx.io.err(`${missing}\n`);
        return PARAMETER_ERROR;
      }
      const api = ctx.api!;
      const r = kind === 'status' ? await api.nodeStatus(node)
        : kind === 'type' ? await api.nodeType(node)
          : kind === 'site' ? await api.nodeSite(node)
            : await api.nodeWeight(node).then((w) => (w.ok ? { ok: true as const, value: String(w.value) } : w));
      if (!r.ok) {
        ctx.io.err(`${unknown}\n`);
        return PARAMETER_ERROR;
      }
      if (ctx.json) ctx.io.out(jsonLine({ node, [kind]: kind === 'weight' ? Number(r.value) : r.value }));
      else ctx.io.out(ctx.human ? `${sentence(node, r.value)}\n` : `${r.value}\n`);
      if (kind !== 'status') return OK;
      return ['active', 'up', 'ping'].includes(r.value) ? OK : NORMAL_FAIL;
    },
  };
}

const listhblinks: Command = {
  optstring: 'mv',
  needsSignon: true,
  async run(ctx, args) {
    const r = options(ctx, args, 'mv', true, 'character code');
    if (!r.ok) return PARAMETER_ERROR;
    const host = r.operands[0];
    if (host === undefined) {
      ctx.io.err('No enough parameter.\n');
      return PARAMETER_ERROR;
    }
    return listLinks(ctx, host, r.items.some((i) => i.option === 'v'));
  },
};

const hblinkstatus: Command = {
  optstring: 'm',
  needsSignon: true,
  async run(ctx, args) {
    const ops = simple(ctx, args, 'm');
    if (!ops) return PARAMETER_ERROR;
    const [node, link] = ops;
    if (node === undefined || link === undefined) {
      ctx.io.err('No enough parameter.\n');
      return PARAMETER_ERROR;
    }
    const r = await ctx.api!.ifStatus(node, link);
    if (!r.ok) {
      // heartbeat's library drops the daemon's reason for this call: the REASON is empty.
      logError(ctx, 'Cannot get heartbeat link status');
      logError(ctx, 'REASON: ');
      return UNKNOWN_ERROR;
    }
    if (ctx.json) ctx.io.out(jsonLine({ node, link, status: r.value }));
    else ctx.io.out(ctx.human ? `The node ${node}'s heartbeat link ${link} is ${r.value}\n` : `${r.value}\n`);
    return r.value === 'up' ? OK : NORMAL_FAIL;
  },
};

/** C atoi: optional sign and leading digits, 0 when none. */
export function atoi(text: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(text);
  if (!m?.[1]) return 0;
  const n = Number(m[1]);
  return Math.max(-2147483648, Math.min(2147483647, n));
}

const CSTATUS_CODES: Record<string, number> = { online: OK, offline: NORMAL_FAIL, join: 2, leave: 3 };

const clientstatus: Command = {
  optstring: 'm',
  needsSignon: true,
  async run(ctx, args) {
    const ops = simple(ctx, args, 'm');
    if (!ops) return PARAMETER_ERROR;
    const [node, client, timeout] = ops;
    if (node === undefined || client === undefined) {
      ctx.io.err('No enough parameter.\n');
      return PARAMETER_ERROR;
    }
    const r = await ctx.api!.clientStatus(node, client, timeout === undefined ? 500 : atoi(timeout));
    if (!r.ok) {
      logError(ctx, `Cannot get heartbeat client ${client}'s status`);
      logError(ctx, `REASON: ${r.error}`);
      return UNKNOWN_ERROR;
    }
    ctx.io.out(ctx.json ? jsonLine({ node, client, status: r.value }) : `${r.value}\n`);
    return CSTATUS_CODES[r.value] ?? UNKNOWN_ERROR;
  },
};

const rscstatus: Command = {
  optstring: 'mv',
  needsSignon: true,
  async run(ctx, args) {
    // -v (heartbeat-ts): also the monitored resources of heartbeat-ts.cf and their failure counts.
    const o = options(ctx, args, 'mv', true, 'character');
    if (!o.ok) return PARAMETER_ERROR;
    const verbose = o.items.some((i) => i.option === 'v');
    const pcmk = await ctx.api!.parameter('pacemaker');
    if (pacemakerEnabled(pcmk.ok ? pcmk.value : undefined)) {
      logError(ctx, 'Cannot get cluster resource status of a pacemaker cluster; try crm_mon');
      return NORMAL_FAIL;
    }
    const r = await ctx.api!.rscStatus();
    if (!r.ok) {
      logError(ctx, 'Cannot get cluster resource status');
      logError(ctx, `REASON: ${r.error}`);
      return UNKNOWN_ERROR;
    }
    const monitors = verbose ? await ctx.api!.monitors() : undefined;
    if (monitors !== undefined && !monitors.ok) {
      logError(ctx, 'Cannot get monitored resource status');
      logError(ctx, `REASON: ${monitors.error}`);
      return UNKNOWN_ERROR;
    }
    if (ctx.json) ctx.io.out(jsonLine(monitors === undefined ? { resources: r.value } : { resources: r.value, monitors: monitors.value }));
    else ctx.io.out(ctx.human ? `This node is holding ${r.value} resources.\n` : `${r.value}\n`);
    if (!ctx.json && monitors !== undefined) for (const m of monitors.value) ctx.io.out(`${monitorLine(m)}\n`);
    return OK;
  },
};

const hbparameter: Command = {
  optstring: 'mp:',
  needsSignon: true,
  async run(ctx, args) {
    const r = options(ctx, args, 'mp:', true, 'character code');
    if (!r.ok) return PARAMETER_ERROR;
    let name: string | undefined;
    for (const it of r.items) if (it.option === 'p' && it.kind === 'option') name = it.arg;
    if (name === undefined) {
      logError(ctx, 'parameter name required');
      return PARAMETER_ERROR;
    }
    const v = await ctx.api!.parameter(name);
    if (!v.ok || v.value === undefined) {
      logError(ctx, `Cannot get parameter ${name}'s value`);
      logError(ctx, 'REASON: ');
      return NORMAL_FAIL;
    }
    if (ctx.json) ctx.io.out(jsonLine({ name, value: v.value }));
    else ctx.io.out(ctx.human ? `Heartbeat parameter ${name}'s value: ${v.value}\n` : `${v.value}\n`);
    return OK;
  },
};

/** The undocumented `test` sub-command of the real tool. */
const testCmd: Command = {
  optstring: null,
  needsSignon: true,
  async run(ctx) {
    const info = ctx.signon?.ok ? ctx.signon.info : undefined;
    const rsc = await ctx.api!.rscStatus();
    ctx.io.out(`Dead time: ${info?.deadtimeMs ?? 0}\n keeplive time: ${info?.keepaliveMs ?? 0}\n mynodeid: ${info?.node ?? ''}\n rsc: ${rsc.ok ? rsc.value : '(null)'}\n`);
    return OK;
  },
};

export const COMMANDS: Readonly<Record<string, Command>> = {
  hbstatus,
  listnodes,
  nodestatus: nodeCommand('status', 'Not enough parameters.', 'Error. May be due to incorrect node name', (n, v) => `The cluster node ${n} is ${v}`),
  nodeweight: nodeCommand('weight', 'Not enough parameters.', 'Error. Maybe due to incorrect node name.', (n, v) => `The weight of the cluster node ${n} is ${v}`),
  nodesite: nodeCommand('site', 'Not enough parameters.', 'Error. May be due to incorrect node name', (n, v) => `The site of the cluster node ${n} is ${v}`),
  nodetype: nodeCommand('type', 'No enough parameter.', 'Error. May be due to incorrect node name', (n, v) => `The node ${n}'s type: ${v}`),
  listhblinks,
  hblinkstatus,
  clientstatus,
  rscstatus,
  hbparameter,
  test: testCmd,
};

/** Sub-commands that accept our `--json` addition: all the documented ones (not `test`). */
export const JSON_COMMANDS: ReadonlySet<string> = new Set(Object.keys(COMMANDS).filter((c) => c !== 'test'));
