/**
 * The live status page: plain HTML, CSS and JavaScript served by the
 * daemon itself, nothing fetched from elsewhere (the CSP forbids it). The
 * script polls /status.json every second and redraws with textContent
 * only: names and texts from the cluster are never parsed as HTML.
 */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>heartbeat-ts</title>
<link rel="stylesheet" href="/app.css">
<script src="/app.js" defer></script>
</head>
<body>
<header>
  <h1>heartbeat-ts <span id="me"></span></h1>
  <p id="conn" class="conn">connecting…</p>
</header>
<main>
  <section><h2>Nodes</h2><table id="nodes"><thead><tr><th>node</th><th>status</th><th>links</th></tr></thead><tbody></tbody></table></section>
  <section><h2>Resource groups</h2><p id="rscstate" class="muted"></p>
    <table id="groups"><thead><tr><th>group</th><th>holder</th><th>home</th><th>state</th></tr></thead><tbody></tbody></table></section>
  <section><h2>Last failover</h2><div id="failover"><p class="muted">none since the daemon started</p></div></section>
  <section><h2>Recent events</h2><ol id="events" reversed></ol></section>
</main>
<footer><a href="/metrics">/metrics</a> · <a href="/status.json">/status.json</a></footer>
</body>
</html>
`;

export const PAGE_CSS = `:root { color-scheme: light dark; --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --muted: #6e7781; }
* { box-sizing: border-box; }
body { font: 15px/1.4 system-ui, sans-serif; margin: 0 auto; max-width: 60rem; padding: 0.75rem; }
h1 { font-size: 1.3rem; margin: 0; } h2 { font-size: 1.05rem; margin: 1.2rem 0 0.4rem; }
header { display: flex; flex-wrap: wrap; justify-content: space-between; align-items: baseline; gap: 0.5rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.3rem 0.4rem; border-bottom: 1px solid #8884; }
td:first-child { overflow-wrap: anywhere; } th, td:not(:first-child) { white-space: nowrap; }
.st { font-weight: 600; } .st-active, .st-up, .st-stable { color: var(--ok); } .st-dead, .st-none { color: var(--bad); }
.st-init, .st-transition { color: var(--warn); } .muted, .conn { color: var(--muted); } .conn.lost { color: var(--bad); }
.link { display: inline-block; margin-right: 0.6rem; white-space: nowrap; }
ol { padding-left: 1.4rem; margin: 0; } li { margin: 0.15rem 0; overflow-wrap: anywhere; } li time { color: var(--muted); margin-right: 0.4rem; }
.phases { display: grid; grid-template-columns: minmax(6rem, max-content) 1fr; gap: 0.3rem 0.6rem; align-items: center; }
.bar { height: 0.9rem; background: #2f81f7; min-width: 2px; border-radius: 2px; }
footer { margin: 1.5rem 0 0.5rem; color: var(--muted); }
@media (max-width: 480px) { body { font-size: 14px; padding: 0.5rem; } th, td { padding: 0.25rem; } }
`;

export const PAGE_JS = `'use strict';
(() => {
  const $ = (sel) => document.querySelector(sel);
  const el = (tag, text, cls) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = String(text); if (cls) e.className = cls; return e; };
  const status = (text) => el('span', text, 'st st-' + String(text).replace(/[^a-z]/g, ''));
  const PHASE_NAMES = { first_script: 'first script', address_up: 'address up', group_started: 'groups started' };

  function rows(tbody, items, cells, key) {
    tbody.replaceChildren(...items.map((it) => {
      const tr = el('tr');
      tr.dataset.key = key(it);
      for (const c of cells(it)) { const td = el('td'); td.append(c); tr.append(td); }
      return tr;
    }));
  }

  function drawNodes(doc) {
    rows($('#nodes tbody'), doc.nodes, (n) => {
      const links = el('span');
      for (const l of n.links) { const s = el('span', '', 'link'); s.append(l.name + ' ', status(l.status)); links.append(s); }
      return [el('span', n.name + (n.type === 'ping' ? ' (ping)' : '')), status(n.status), links];
    }, (n) => n.name);
  }

  function drawGroups(doc) {
    const q = doc.quorum ? ' · quorum: ' + (doc.quorum.has ? 'yes' : 'NO') + ', ' + doc.quorum.live.length + ' of ' + doc.quorum.configured + ' nodes' : '';
    $('#rscstate').textContent = (doc.resourceState === null ? 'resources are not managed by this node' : 'this node holds: ' + doc.resourceState) + q;
    rows($('#groups tbody'), doc.groups, (g) => [el('span', g.group), g.holder === null ? status('none') : el('span', g.holder, 'holder'), el('span', g.home), status(g.state)], (g) => g.group);
  }

  function drawFailover(doc) {
    const box = $('#failover');
    const f = doc.failovers[doc.failovers.length - 1];
    if (!f) return;
    const head = el('p', (f.complete ? 'from ' : 'in progress, from ') + f.node + ' at ' + new Date(f.deadAt).toLocaleTimeString() + ' (' + f.groups.join(', ') + ')');
    head.id = 'failover-head';
    const grid = el('div', undefined, 'phases');
    const total = Math.max(1, ...Object.values(f.phasesMs));
    grid.append(el('span', 'dead declared'), el('span', '0 ms'));
    for (const [k, name] of Object.entries(PHASE_NAMES)) {
      const ms = f.phasesMs[k];
      const cell = el('div');
      if (ms === undefined) cell.append(el('span', '—', 'muted'));
      else { const bar = el('div', undefined, 'bar'); bar.style.width = (100 * ms / total) + '%'; bar.title = ms + ' ms'; cell.append(bar, el('span', ms + ' ms')); }
      grid.append(el('span', name), cell);
    }
    box.replaceChildren(head, grid);
  }

  function drawEvents(doc) {
    $('#events').replaceChildren(...doc.events.slice().reverse().map((e) => {
      const li = el('li');
      li.dataset.kind = e.kind;
      li.append(el('time', new Date(e.time).toLocaleTimeString()), e.text);
      return li;
    }));
  }

  async function refresh() {
    try {
      const res = await fetch('/status.json', { cache: 'no-store' });
      if (!res.ok) throw new Error('HTTP ' + res.status);
      const doc = await res.json();
      $('#me').textContent = '— ' + doc.node;
      document.title = 'heartbeat-ts — ' + doc.node;
      drawNodes(doc); drawGroups(doc); drawFailover(doc); drawEvents(doc);
      const c = $('#conn'); c.textContent = 'live · ' + new Date(doc.time).toLocaleTimeString(); c.classList.remove('lost');
    } catch (err) {
      const c = $('#conn'); c.textContent = 'no answer from the daemon (' + err.message + ')'; c.classList.add('lost');
    }
  }
  refresh();
  setInterval(refresh, 1000);
})();
`;
