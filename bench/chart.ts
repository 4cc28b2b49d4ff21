/**
 * The results as one SVG: a panel per scenario, a row per (metric, setting),
 * a bar per daemon (heartbeat-ts, Heartbeat, keepalived where measured) showing the median, with a
 * whisker from min to max. Rows mix units, so each row has its own scale
 * (zero to the largest max of that row); the values are printed.
 */
import { DAEMON_LABEL, DAEMONS, type Daemon, fmt, type Results, type Series, summarize } from './report.js';

const COLORS: Record<Daemon, string> = { ours: '#2b7bb9', real: '#d9822b', keepalived: '#4a9b4a' };
const LABEL_W = 360;
const PLOT_W = 380;
const VALUE_W = 250;
const BARS_TOP = 3;
const BAR_H = 12;
const WIDTH = LABEL_W + PLOT_W + VALUE_W + 30;

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

interface Row {
  label: string;
  sub: string;
  unit: string;
  bars: Array<{ daemon: Daemon; min: number; median: number; max: number; n: number }>;
}

function rowsOf(series: readonly Series[], titles: Record<string, string>): Map<string, Row[]> {
  const panels = new Map<string, Row[]>();
  const seen = new Set<string>();
  for (const s of series) {
    const key = `${s.scenario}\u0000${s.metric}\u0000${s.setting}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const row: Row = { label: s.metric, sub: s.setting, unit: s.unit, bars: [] };
    for (const d of DAEMONS) {
      const match = series.find((x) => x.scenario === s.scenario && x.metric === s.metric && x.setting === s.setting && x.daemon === d);
      const sum = summarize(match?.samples ?? []);
      if (sum !== undefined) row.bars.push({ daemon: d, ...sum });
    }
    const title = titles[s.scenario] ?? s.scenario;
    const list = panels.get(title) ?? [];
    list.push(row);
    panels.set(title, list);
  }
  return panels;
}

export function renderSvg(r: Results, titles: Record<string, string>): string {
  const panels = rowsOf(r.series, titles);
  const parts: string[] = [];
  const shown = DAEMONS.filter((d) => d !== 'keepalived' || r.series.some((s) => s.daemon === d));
  let y = 20;
  parts.push(`<text x="10" y="${y + 6}" font-size="18" font-weight="bold">${shown.map((d) => DAEMON_LABEL[d]).join(' vs ')} — ${esc(r.started.slice(0, 19))}Z</text>`);
  y += 22;
  let lx = 10;
  for (const d of shown) {
    parts.push(`<rect x="${lx}" y="${y}" width="14" height="10" fill="${COLORS[d]}"/>`);
    parts.push(`<text x="${lx + 20}" y="${y + 9}" font-size="12">${DAEMON_LABEL[d]} (bar: median, line: min–max)</text>`);
    lx += 330;
  }
  y += 24;
  for (const [title, rows] of panels) {
    parts.push(`<text x="10" y="${y + 14}" font-size="15" font-weight="bold">${esc(title)}</text>`);
    y += 24;
    for (const row of rows) {
      const scaleMax = Math.max(...row.bars.map((b) => b.max), 1e-9);
      // a negative figure (keepalived's reference moment after its reply) sits on the axis
      const sx = (v: number): number => LABEL_W + (Math.max(0, v) / scaleMax) * PLOT_W;
      parts.push(`<text x="10" y="${y + 14}" font-size="12">${esc(row.label)}</text>`);
      parts.push(`<text x="10" y="${y + 29}" font-size="10" fill="#555">${esc(row.sub)}</text>`);
      // two bars fit the label's two lines; a third makes the row taller
      const rowH = Math.max(40, BARS_TOP + row.bars.length * (BAR_H + 4) + 6);
      parts.push(`<line x1="${LABEL_W}" y1="${y}" x2="${LABEL_W}" y2="${y + rowH - 6}" stroke="#999"/>`);
      row.bars.forEach((b, k) => {
        const by = y + BARS_TOP + k * (BAR_H + 4);
        parts.push(`<rect x="${LABEL_W}" y="${by}" width="${Math.max(1, sx(b.median) - LABEL_W).toFixed(1)}" height="${BAR_H}" fill="${COLORS[b.daemon]}"/>`);
        parts.push(`<line x1="${sx(b.min).toFixed(1)}" y1="${by + BAR_H / 2}" x2="${sx(b.max).toFixed(1)}" y2="${by + BAR_H / 2}" stroke="#222" stroke-width="1.5"/>`);
        parts.push(`<text x="${LABEL_W + PLOT_W + 14}" y="${by + 10}" font-size="11">${esc(`${fmt(b.median, row.unit)} (${fmt(b.min, row.unit)}–${fmt(b.max, row.unit)}, n=${b.n})`)}</text>`);
      });
      y += rowH;
    }
    y += 10;
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${y + 10}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
