/** Shared helpers of the ha.cf tests. */
import { expect } from 'vitest';
import { parseHaCf, type HaCfOptions } from '../../../lib/config/hacf.js';
import type { ConfigProblem, HaConfig } from '../../../lib/config/types.js';

export const FILE = '/etc/ha.d/ha.cf';

/** A valid two-node file; tests append to it (its lines are 1-5). */
export const BASE = 'node node1 node2\nbcast eth0\nauto_failback on\nlogfile /var/log/ha-log\nuse_logd no\n';
export const BASE_LINES = 5;

export interface Parsed { cfg: HaConfig; problems: ConfigProblem[] }

export function parse(text: string, opts: Partial<HaCfOptions> = {}): Parsed {
  const r = parseHaCf(text, { file: FILE, nodename: 'node1', ...opts });
  if (r.value === undefined) throw new Error('parseHaCf returned no value');
  return { cfg: r.value, problems: r.problems };
}

/** BASE plus `extra`; the extra lines start at line BASE_LINES + 1. */
export function parseWith(extra: string, opts: Partial<HaCfOptions> = {}): Parsed {
  return parse(BASE + extra, opts);
}

export function errors(p: Parsed): ConfigProblem[] {
  return p.problems.filter((x) => x.severity === 'error');
}

/** Asserts exactly one problem with `code` exists and returns it. */
export function only(p: Parsed, code: string): ConfigProblem {
  const found = p.problems.filter((x) => x.code === code);
  expect(found, `problems with code ${code} in ${JSON.stringify(p.problems, null, 1)}`).toHaveLength(1);
  return found[0] as ConfigProblem;
}

/** The only error of the parse: it has `code` at `line`, in FILE. */
export function soleError(p: Parsed, code: string, line: number): ConfigProblem {
  const errs = errors(p);
  expect(errs.map((e) => `${e.code}@${e.line}: ${e.message}`)).toHaveLength(1);
  const e = errs[0] as ConfigProblem;
  expect(e).toMatchObject({ code, line, file: FILE, severity: 'error' });
  return e;
}
