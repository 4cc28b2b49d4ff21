/**
 * Presentation of configuration problems (`heartbeat -t`) and of the
 * directive defaults (`heartbeat -D`).
 */
import { DIRECTIVES } from './directives.js';
import type { ConfigProblem } from './types.js';

/** `FILE:LINE: severity: MESSAGE`, without `:LINE` for whole-file problems. */
export function formatProblem(p: ConfigProblem): string {
  const where = p.line > 0 ? `${p.file}:${p.line}` : p.file;
  return `${where}: ${p.severity}: ${p.message}`;
}

export function hasErrors(problems: readonly ConfigProblem[]): boolean {
  return problems.some((p) => p.severity === 'error');
}

/** heartbeat's dump_default_config uses an 80-dash string as the rule under the header. */
const MAX_RULE = 80;
/** …printed with a field width of sizeof(char *), a C slip that only matters for tiny tables. */
const RULE_MIN_WIDTH = 8;

/**
 * The exact text `heartbeat -D` prints: every directive with a default, in
 * table order, as three columns sized to their longest entry (header
 * included) and separated by two spaces, under a rule of dashes.
 */
export function formatDefaults(): string {
  const rows = DIRECTIVES.flatMap((d) => (d.default === undefined ? [] : [[d.name, d.default, d.description ?? '']]));
  const header = ['Directive', 'Default', 'Description'];
  const width = (col: number): number => Math.max(...[header, ...rows].map((r) => (r[col] ?? '').length));
  const lw = width(0);
  const cw = width(1);
  const rw = width(2);
  const line = (r: string[]): string => `${(r[0] ?? '').padEnd(lw)}  ${(r[1] ?? '').padEnd(cw)}  ${r[2] ?? ''}\n`;
  const rule = '-'.repeat(Math.min(MAX_RULE, lw + cw + rw + 4)).padEnd(RULE_MIN_WIDTH);
  return line(header) + `${rule}\n` + rows.map(line).join('');
}
