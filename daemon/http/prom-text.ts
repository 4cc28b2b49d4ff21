/**
 * Prometheus text exposition format 0.0.4, written by hand: HELP and TYPE
 * once per family, label values escaped (backslash, quote, newline), numbers
 * as Prometheus parses them. Label values here come from configuration
 * (node, link, resource names) or from fixed sets; nothing from the wire.
 */
export type Labels = Readonly<Record<string, string>>;
export type MetricType = 'counter' | 'gauge' | 'histogram';

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

function labelText(labels: Labels | undefined): string {
  if (!labels) return '';
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

/** Cumulative buckets over fixed upper bounds (seconds), with sum and count. */
export class Histogram {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = bounds.map(() => 0);
  }

  observe(v: number): void {
    this.sum += v;
    this.count++;
    for (let i = 0; i < this.bounds.length; i++) if (v <= (this.bounds[i] as number)) this.counts[i] = (this.counts[i] ?? 0) + 1;
  }

  get observations(): number {
    return this.count;
  }

  /** Exposition lines of this histogram under `name` with `labels`. */
  lines(name: string, labels: Labels = {}): string[] {
    const out = this.bounds.map((b, i) => `${name}_bucket${labelText({ ...labels, le: formatNumber(b) })} ${this.counts[i] ?? 0}`);
    out.push(`${name}_bucket${labelText({ ...labels, le: '+Inf' })} ${this.count}`);
    out.push(`${name}_sum${labelText(labels)} ${formatNumber(this.sum)}`);
    out.push(`${name}_count${labelText(labels)} ${this.count}`);
    return out;
  }
}

/** Collects families in order and renders the page. */
export class Exposition {
  private readonly out: string[] = [];

  /**
   * A family with its samples (a counter when named `_total`, else a gauge);
   * a family without samples still gets HELP and TYPE.
   */
  family(name: string, help: string, samples: Array<[Labels | undefined, number]>): this {
    const type: MetricType = name.endsWith('_total') ? 'counter' : 'gauge';
    this.out.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) this.out.push(`${name}${labelText(labels)} ${formatNumber(value)}`);
    return this;
  }

  histograms(name: string, help: string, series: Array<[Labels, Histogram]>): this {
    this.out.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} histogram`);
    for (const [labels, h] of series) this.out.push(...h.lines(name, labels));
    return this;
  }

  text(): string {
    return `${this.out.join('\n')}\n`;
  }
}
