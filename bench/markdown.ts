/**
 * A results.json as Markdown tables (for the README): one table per
 * scenario — metric, setting, both daemons' median with min–max, the ratio
 * heartbeat-ts / Heartbeat — then the targets with their verdicts.
 */
import { DAEMON_LABEL, type Daemon, daemonsOf, fmt, ratioText, type Results, type Series, summarize } from './report.js';

function cell(s: Series | undefined): string {
  const sum = summarize(s?.samples ?? []);
  if (s === undefined || sum === undefined) return '—';
  return sum.n === 1 ? fmt(sum.median, s.unit) : `${fmt(sum.median, s.unit)} (${fmt(sum.min, s.unit)}–${fmt(sum.max, s.unit)}, n=${sum.n})`;
}

export function resultsMarkdown(r: Results, titles: Record<string, string>): string {
  const out: string[] = [];
  const scenarios = [...new Set(r.series.map((s) => s.scenario))];
  const find = (x: Series, d: Daemon): Series | undefined =>
    r.series.find((s) => s.scenario === x.scenario && s.metric === x.metric && s.setting === x.setting && s.daemon === d);
  for (const sc of scenarios) {
    const ds = daemonsOf(r.series, sc);
    const others = ds.filter((d) => d !== 'ours');
    const head = [...ds.map((d) => (d === 'real' ? 'Heartbeat 3.0.6' : DAEMON_LABEL[d])), ...others.map((d) => (d === 'real' ? 'ours / Heartbeat' : 'ours / keepalived'))];
    out.push(`#### ${titles[sc] ?? sc}`, '', `| metric | setting | ${head.join(' | ')} |`, `|---|---|${head.map(() => '---|').join('')}`);
    const seen = new Set<string>();
    for (const s of r.series.filter((x) => x.scenario === sc)) {
      const key = `${s.metric}\u0000${s.setting}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const median = (d: Daemon): number | undefined => summarize(find(s, d)?.samples ?? [])?.median;
      const ratios = others.map((d) => ratioText(median('ours'), median(d), s.better));
      out.push(`| ${s.metric} | ${s.setting} | ${ds.map((d) => cell(find(s, d))).join(' | ')} | ${ratios.join(' | ')} |`);
    }
    const targets = r.targets.filter((t) => t.scenario === sc);
    if (targets.length > 0) {
      out.push('');
      for (const t of targets) out.push(`* Target — ${t.target}: ${t.figure} — **${t.met === undefined ? 'not measured' : t.met ? 'met' : 'missed'}**`);
    }
    out.push('');
  }
  if (r.failures.length > 0) {
    out.push('Failures during the run:', '');
    for (const f of r.failures) out.push(`* ${f.scenario} ${f.what}: ${f.error.split('\n')[0] ?? ''}`);
    out.push('');
  }
  return out.join('\n');
}
