/**
 * ha.cf parser (spec 8). Pure: the caller supplies the text, the local node
 * name and the udp entries of /etc/services (load.ts does the I/O).
 *
 * The configuration is always returned, filled as far as the file allowed,
 * so that callers can go on checking authkeys and haresources; whether it is
 * usable is `!hasErrors(problems)`.
 */
import { findDirective, type Directive } from './directives.js';
import { finishConfig } from './hacf-checks.js';
import { newContext, report, type ParseContext } from './state.js';
import { asciiLower, DELIMS, spanNot, spanOf, tokens, WHITESPACE } from './text.js';
import type { HaConfig, ParseResult } from './types.js';

export interface HaCfOptions {
  /** Path used in problems and messages. */
  file: string;
  /** This host's node name (nodeinfo or uname -n); lowercased here. */
  nodename: string;
  /** udp services of /etc/services, name or alias -> port, official names first (for the `ha-cluster` port). */
  services?: ReadonlyMap<string, number>;
  /** false when resource management is off (`heartbeat -M`); crm/pacemaker on has the same effect. Default true. */
  manageResources?: boolean;
}

/** heartbeat reads ha.cf with fgets into a 5120-byte buffer: longer lines get cut in two. */
const MAX_LINE = 5118;

export function parseHaCf(text: string, opts: HaCfOptions): ParseResult<HaConfig> {
  const ctx = newContext({
    file: opts.file,
    nodename: asciiLower(opts.nodename),
    services: opts.services ?? new Map(),
    manageResources: opts.manageResources ?? true,
  });
  const lines = text.split('\n');
  lines.forEach((physical, i) => parseLine(ctx, physical, i + 1));
  finishConfig(ctx);
  return { value: ctx.cfg, problems: ctx.problems };
}

function parseLine(ctx: ParseContext, physical: string, lineNo: number): void {
  ctx.line = lineNo;
  if (physical.length > MAX_LINE) {
    report(ctx, 'error', 'HACF_LINE_TOO_LONG', `line is longer than ${MAX_LINE} characters; heartbeat would split it`);
    return;
  }
  let s = physical.slice(spanOf(physical, WHITESPACE));
  // A comment runs from the first '#' anywhere; the line also ends at the first CR.
  const hash = s.indexOf('#');
  if (hash >= 0) s = s.slice(0, hash);
  const cr = s.indexOf('\r');
  if (cr >= 0) s = s.slice(0, cr);
  if (s === '') return;

  const dirLen = spanNot(s, WHITESPACE);
  let name = s.slice(0, dirLen);
  if (name === 'udp') {
    report(ctx, 'warning', 'HACF_UDP_ALIAS', "WARNING: directive 'udp' replaced by 'bcast'");
    name = 'bcast';
  }
  const directive = findDirective(name);
  if (directive === undefined) {
    report(ctx, 'error', 'HACF_UNKNOWN_DIRECTIVE', `Illegal directive [${name}] in ${ctx.file}`);
    return;
  }
  const rest = s.slice(dirLen + spanOf(s, DELIMS, dirLen));
  if (!directive.perToken) {
    applyValue(ctx, directive, rest);
    return;
  }
  const values = tokens(rest, DELIMS);
  if (values.length === 0) {
    report(ctx, 'warning', 'HACF_NO_VALUE', `${name} has no value; the line is ignored`);
  }
  for (const v of values) applyValue(ctx, directive, v);
}

function applyValue(ctx: ParseContext, d: Directive, value: string): void {
  if (!d.apply(value, ctx)) return;
  ctx.lineOf.set(d.name, ctx.line);
  if (d.record) ctx.cfg.raw[d.name] = value;
}
