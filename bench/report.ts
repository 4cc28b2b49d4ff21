/**
 * Benchmark results: samples per (scenario, metric, setting, daemon), their
 * min/median/max, the ratio heartbeat-ts / Heartbeat, targets, and the
 * printed table. The JSON written at the end is `Results` as is.
 */
export type Daemon = 'ours' | 'real' | 'keepalived';
export const DAEMON_LABEL: Record<Daemon, string> = { ours: 'heartbeat-ts', real: 'Heartbeat 3.0.6', keepalived: 'keepalived 2.2 (VRRPv3)' };
/** Column order of tables and chart; keepalived only where a scenario measured it. */
export const DAEMONS: readonly Daemon[] = ['ours', 'real', 'keepalived'];

/** The daemons a scenario has figures for, in column order (heartbeat-ts and Heartbeat always). */
export function daemonsOf(series: readonly Series[], scenario: string): Daemon[] {
  return DAEMONS.filter((d) => d !== 'keepalived' || series.some((s) => s.scenario === scenario && s.daemon === d));
}

/** heartbeat-ts's median over another daemon's, as the tables print it. */
export function ratioText(ours: number | undefined, other: number | undefined, better: Series['better']): string {
  // a negative figure (keepalived's reference moment after its reply) has no meaningful ratio
  return ours !== undefined && other !== undefined && ours >= 0 && other > 0 ? `${(ours / other).toFixed(2)}× (${better} is better)` : '—';
}

export interface Series {
  scenario: string;
  metric: string;
  /** the settings the samples were taken at, e.g. "keepalive 1s / deadtime 5s" */
  setting: string;
  daemon: Daemon;
  unit: string;
  /** lower is better (times, CPU, memory) or higher (throughput) */
  better: 'lower' | 'higher';
  samples: number[];
}

export interface TargetCheck {
  scenario: string;
  target: string;
  figure: string;
  met: boolean | undefined;
}

export interface Results {
  started: string;
  finished?: string;
  host: { cpus: number; memGiB: number; node: string; kernel: string; load: string };
  options: Record<string, unknown>;
  series: Series[];
  targets: TargetCheck[];
  failures: Array<{ scenario: string; what: string; error: string }>;
  notes: string[];
}

export interface Summary {
  n: number;
  min: number;
  median: number;
  max: number;
}

export function summarize(xs: readonly number[]): Summary | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
  return { n: s.length, min: s[0] as number, median, max: s[s.length - 1] as number };
}

export function fmt(v: number, unit: string): string {
  if (!Number.isFinite(v)) return String(v);
  if (unit === 'ms' && Math.round(v) === 0) return '0 ms'; // not "-0 ms"
  if (unit === 'ms') return v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(0)} ms`;
  if (unit === 'msg/s') return v >= 1e6 ? `${(v / 1e6).toFixed(2)} M/s` : v >= 1e3 ? `${(v / 1e3).toFixed(1)} k/s` : `${v.toFixed(0)}/s`;
  if (unit === '%') return `${v.toFixed(v < 1 ? 3 : 2)} %`;
  if (unit === 'MiB') return `${v.toFixed(1)} MiB`;
  return `${v.toFixed(2)} ${unit}`;
}

export class Recorder {
  readonly results: Results;

  constructor(host: Results['host'], options: Record<string, unknown>) {
    this.results = { started: new Date().toISOString(), host, options, series: [], targets: [], failures: [], notes: [] };
  }

  /** Adds one sample (creating the series on first use). */
  add(s: Omit<Series, 'samples'>, value: number): void {
    let found = this.results.series.find(
      (x) => x.scenario === s.scenario && x.metric === s.metric && x.setting === s.setting && x.daemon === s.daemon,
    );
    if (found === undefined) {
      found = { ...s, samples: [] };
      this.results.series.push(found);
    }
    found.samples.push(value);
  }

  failure(scenario: string, what: string, err: unknown): void {
    this.results.failures.push({ scenario, what, error: err instanceof Error ? err.message : String(err) });
  }

  target(t: TargetCheck): void {
    this.results.targets.push(t);
  }

  note(text: string): void {
    this.results.notes.push(text);
  }

  series(scenario: string, metric: string, setting: string, daemon: Daemon): Series | undefined {
    return this.results.series.find((x) => x.scenario === scenario && x.metric === metric && x.setting === setting && x.daemon === daemon);
  }

  median(scenario: string, metric: string, setting: string, daemon: Daemon): number | undefined {
    return summarize(this.series(scenario, metric, setting, daemon)?.samples ?? [])?.median;
  }

  /** The table of one scenario: metric, setting, each daemon's min/median/max, ratios heartbeat-ts / the others. */
  table(scenario: string): string {
    const ds = daemonsOf(this.results.series, scenario);
    const others = ds.filter((d) => d !== 'ours');
    const rows: string[][] = [[
      'metric', 'setting', ...ds.map((d) => `${DAEMON_LABEL[d]} min / median / max`), ...others.map((d) => (d === 'real' ? 'ours/hb' : 'ours/ka')),
    ]];
    const keys = new Map<string, Series>();
    for (const s of this.results.series) if (s.scenario === scenario) keys.set(`${s.metric}\u0000${s.setting}`, s);
    for (const s of keys.values()) {
      const cell = (d: Daemon): string => {
        const sum = summarize(this.series(scenario, s.metric, s.setting, d)?.samples ?? []);
        return sum === undefined ? '—' : `${fmt(sum.min, s.unit)} / ${fmt(sum.median, s.unit)} / ${fmt(sum.max, s.unit)} (n=${sum.n})`;
      };
      const mo = this.median(scenario, s.metric, s.setting, 'ours');
      const ratios = others.map((d) => ratioText(mo, this.median(scenario, s.metric, s.setting, d), s.better));
      rows.push([s.metric, s.setting, ...ds.map(cell), ...ratios]);
    }
    const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
    return rows.map((r) => r.map((v, c) => v.padEnd(widths[c] ?? 0)).join('  ').trimEnd()).join('\n');
  }

  targetLines(scenario: string): string {
    return this.results.targets
      .filter((t) => t.scenario === scenario)
      .map((t) => `  target: ${t.target} — ${t.figure} — ${t.met === undefined ? 'not measured' : t.met ? 'MET' : 'MISSED'}`)
      .join('\n');
  }
}
