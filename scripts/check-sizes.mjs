#!/usr/bin/env node
// The size rule of DEVELOPERS.md: lists .ts files over ~400 lines and functions over 80
// lines under the given directories (default lib daemon), by brace matching on the code
// with strings, comments and regexes blanked (typescript 7 has no JS compiler API).
// Exits 1 when a file passes 410 lines or a function 80.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
const files = [];
const walk = (d) => { for (const n of readdirSync(d)) { const p = join(d, n); if (statSync(p).isDirectory()) walk(p); else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) files.push(p); } };
const roots = process.argv.slice(2);
(roots.length ? roots : ['lib', 'daemon']).forEach(walk);
let bad = false;
function clean(t) {
  let out = ''; let i = 0; const tmpl = [];
  const blank = (s) => s.replace(/[^\n]/g, ' ');
  while (i < t.length) {
    const c = t[i], d = t[i + 1];
    if (c === '/' && d === '/') { const e = t.indexOf('\n', i); const j = e < 0 ? t.length : e; out += blank(t.slice(i, j)); i = j; continue; }
    if (c === '/' && d === '*') { const j = t.indexOf('*/', i + 2) + 2; out += blank(t.slice(i, j)); i = j; continue; }
    if (c === '"' || c === "'") { let j = i + 1; while (j < t.length && t[j] !== c && t[j] !== '\n') j += t[j] === '\\' ? 2 : 1; out += blank(t.slice(i, j + 1)); i = j + 1; continue; }
    if (c === '`' || (c === '}' && tmpl.length && tmpl[tmpl.length - 1] === 0)) {
      if (c === '}') tmpl.pop();
      let j = i + 1;
      while (j < t.length && t[j] !== '`' && !(t[j] === '$' && t[j + 1] === '{')) j += t[j] === '\\' ? 2 : 1;
      if (t[j] === '$') { out += blank(t.slice(i, j)) + '  '; tmpl.push(0); i = j + 2; } else { out += blank(t.slice(i, j + 1)); i = j + 1; }
      continue;
    }
    if (tmpl.length) { if (c === '{') tmpl[tmpl.length - 1]++; else if (c === '}') tmpl[tmpl.length - 1]--; }
    // regex literal after an operator-ish char
    if (c === '/' && /[=(,:;!&|?{}\[]\s*$|return\s*$/.test(out.slice(-20))) { let j = i + 1, cls = false; while (j < t.length && t[j] !== '\n' && (cls || t[j] !== '/')) { if (t[j] === '[') cls = true; else if (t[j] === ']') cls = false; j += t[j] === '\\' ? 2 : 1; } out += blank(t.slice(i, j + 1)); i = j + 1; continue; }
    out += c; i++;
  }
  return out;
}
const line = (s, p) => s.slice(0, p).split('\n').length;
for (const f of files) {
  const text = readFileSync(f, 'utf8');
  const n = text.split('\n').length;
  if (n > 400) console.log(`FILE ${f} ${n}`);
  if (n > 410) bad = true;
  const c = clean(text);
  const stack = [];
  for (let i = 0; i < c.length; i++) {
    if (c[i] === '{') {
      const before = c.slice(Math.max(0, i - 400), i).replace(/\s+$/, '');
      let fn = null;
      if (before.endsWith('=>')) fn = '(arrow)';
      else {
        const m = /\)\s*(:\s*[^{};=()]*)?$/.exec(before);
        if (m) {
          let k = m.index, depth = 0;
          for (; k >= 0; k--) { if (before[k] === ')') depth++; else if (before[k] === '(') { depth--; if (depth === 0) break; } }
          const w = /([A-Za-z_$][\w$]*)\s*(<[^()]*>)?\s*$/.exec(before.slice(0, k));
          const name = w ? w[1] : '(anon)';
          if (!['if', 'for', 'while', 'switch', 'catch', 'with'].includes(name)) fn = name;
        }
      }
      stack.push({ i, fn });
    } else if (c[i] === '}') {
      const o = stack.pop();
      if (o && o.fn) { const a = line(c, o.i), b = line(c, i); if (b - a + 1 > 80) { console.log(`FUNC ${f}:${a} ${o.fn} ${b - a + 1}`); bad = true; } }
    }
  }
}
process.exitCode = bad ? 1 : 0;
