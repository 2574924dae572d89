// group.js — the group as a picture: one card per node (primary on top, secondaries,
// witness and others below) with SVG arrows from the primary (replication to each
// secondary, votes to the witness), the summary line, a table view, and the list of
// problems shown in the banner.
import { h, svg, $, age, str, isNum } from './util.js';
import { cluster } from './api.js';

const nodeKey = (n) => n.name || n.address || '?';
const nodeTitle = (n) => n.name || `unreachable member ${n.address || '?'}`;

/** What the browser knows of a node's reachability and health verdicts. */
function view(n) {
  if (n.name && n.name === cluster.currentName) {
    return { reach: 'yes', reachText: 'reachable from this browser (current source)', health: n.health };
  }
  if (!n.http) return { reach: 'unknown', reachText: 'no HTTP address known', health: null };
  const r = cluster.reach.get(n.name);
  if (!r) return { reach: 'unknown', reachText: 'not checked yet from this browser', health: null };
  if (!r.ok) return { reach: 'no', reachText: 'NOT reachable from this browser', health: null };
  if (r.denied) return { reach: 'yes', reachText: 'reachable, but it refused the token', health: null };
  return { reach: 'yes', reachText: 'reachable from this browser', health: r.health };
}

/** Problems for the banner: [{ id, text }]. */
export function problems(g) {
  const out = [];
  if (cluster.noNode) out.push({ id: 'no-node', text: 'no node of the group answers (retrying every second)' });
  if (!g) return out;
  if (!g.primary) out.push({ id: 'no-primary', text: 'no primary: the group does not accept writes' });
  if (g.quorum === 'majority' && isNum(g.voters) && isNum(g.visible) && g.visible <= g.voters / 2) {
    out.push({ id: 'no-quorum', text: `no quorum: voters visible ${g.visible} of ${g.voters}` });
  }
  if (g.replication && g.replication.degraded) {
    out.push({ id: 'replication-degraded', text: `replication degraded (${g.replication.mode || '?'}${g.replication.strict ? ', strict' : ''})` });
  }
  if (g.divergent > 0) out.push({ id: 'divergent', text: `${g.divergent} divergent change(s) kept: see the Divergent page` });
  const bad = [];
  for (const n of g.nodes || []) {
    if (n.state === 'lost' || n.state === 'unreachable') bad.push(n.name ? `${n.name} is ${n.state}` : nodeTitle(n));
    else if (view(n).reach === 'no') bad.push(`${nodeTitle(n)} cannot be reached from this browser`);
  }
  if (bad.length) out.push({ id: 'node-unreachable', text: bad.join('; ') });
  if (g.maintenance) out.push({ id: 'maintenance', text: 'maintenance: automatic failover is paused' });
  return out;
}

function setText(sel, text, data = {}) {
  const el = $(sel);
  if (!el) return;
  el.textContent = text;
  for (const [k, v] of Object.entries(data)) el.dataset[k] = String(v);
}

/** Summary fields above the picture. */
function summary(g) {
  setText('#group-name', g.name || '?');
  setText('#group-term', str(g.term));
  setText('#group-primary', g.primary || 'none', { primary: g.primary || '' });
  const need = isNum(g.voters) ? Math.floor(g.voters / 2) + 1 : '?';
  const rule = g.quorum === 'majority' ? `majority of ${need} needed` : `quorum rule: ${g.quorum || '?'}`;
  setText('#quorum', `voters visible ${g.visible ?? '?'} of ${g.voters ?? '?'} (${rule})`,
    { quorum: g.quorum || '', visible: g.visible ?? '', voters: g.voters ?? '' });
  const r = g.replication || {};
  const parts = [r.mode || '?', r.degraded ? 'DEGRADED' : 'not degraded'];
  if (r.strict) parts.push('strict');
  // the answering node reports its own side: the primary what its secondary acknowledged, a secondary how it keeps up
  if (g.seen_by && g.seen_by === g.primary) {
    if (r.acked_lsn != null) parts.push(`secondary acknowledged LSN ${r.acked_lsn}`);
  } else if (r.mode && r.mode !== 'none') {
    parts.push(r.caught_up ? `${g.seen_by || 'this node'} caught up` : `${g.seen_by || 'this node'} catching up`);
    if (r.lag_ms != null) parts.push(`apply lag ${r.lag_ms} ms`);
  }
  setText('#replication', parts.join(', '), { mode: r.mode || '', degraded: !!r.degraded });
  setText('#maintenance-state', g.maintenance ? 'on: automatic failover is paused' : 'off', { enabled: !!g.maintenance });
  setText('#last-decision', g.last_decision || '—');
}

function healthChips(health) {
  return h('ul', { class: 'health' }, ['live', 'ready', 'primary', 'secondary'].map((k) => {
    const v = health && typeof health[k] === 'boolean' ? health[k] : null;
    const word = v === null ? 'unknown' : v ? 'yes' : 'no';
    const mark = v === null ? '?' : v ? '✓' : '✗';
    return h('li', { class: `chip chip-${word}`, 'data-health': k, 'data-value': word }, `${mark} ${k}: ${word}`);
  }));
}

function card(n) {
  const v = view(n);
  const role = n.role || 'UNKNOWN';
  const lag = [];
  if (n.lag != null) lag.push(`${n.lag} changes`);
  if (n.lag_ms != null) lag.push(`${n.lag_ms} ms`);
  const rows = [
    ['kind', n.kind || '?'],
    ['term', str(n.term ?? '—')],
    ['priority', str(n.priority ?? '—')],
    ['LSN', n.lsn != null ? `${n.lsn}${n.last_term != null ? ` (last term ${n.last_term})` : ''}` : '—'],
    ['lag', lag.length ? lag.join(', ') : '—'],
    ['heartbeat', n.heartbeat_age_ms != null ? `${age(n.heartbeat_age_ms)} ago` : '—'],
    ['address', [n.address, n.http].filter(Boolean).join(' · ') || '—'],
  ];
  return h('article', {
    class: `node-card role-${role.toLowerCase()} state-${n.state || 'unknown'}`,
    'data-node': nodeKey(n), 'data-role': role, 'data-kind': n.kind || 'unknown',
    'data-state': n.state || 'unknown', 'data-reachable': v.reach,
  },
  h('header', {},
    h('h3', { text: nodeTitle(n) }),
    h('span', { class: 'badge role-badge', text: role.replace(/_/g, ' ') }),
    h('span', { class: `badge state-badge state-${n.state || 'unknown'}`, text: (n.state || 'unknown').toUpperCase() })),
  h('dl', {}, rows.map(([k, val]) => h('div', {}, h('dt', { text: k }), h('dd', { text: val })))),
  healthChips(v.health),
  h('p', { class: `reach reach-${v.reach}`, text: v.reachText }));
}

/** The arrows: primary -> secondaries (replication) and -> witness (votes). */
function links(g, nodes) {
  const r = g.replication || {};
  const primary = nodes.find((n) => n.name && n.name === g.primary);
  if (!primary) return [];
  return nodes.filter((n) => n !== primary && n.name).map((n) => {
    if (n.kind === 'witness') return { from: primary, to: n, kind: 'vote', label: 'votes' };
    if (n.role === 'SECONDARY') {
      const label = [r.mode || 'replication', r.degraded ? 'degraded' : null, n.lag ? `${n.lag} behind` : null].filter(Boolean).join(' · ');
      return { from: primary, to: n, kind: r.degraded ? 'degraded' : 'repl', label };
    }
    return null;
  }).filter(Boolean).map((l) => ({ ...l, kind: l.to.state === 'up' ? l.kind : 'down', label: l.to.state === 'up' ? l.label : `${l.label} · ${l.to.state}` }));
}

let lastLinks = [];

/** Render summary, picture and table from the last group answer. */
export function renderGroup(g) {
  if (!g) return;
  summary(g);
  const nodes = g.nodes || [];
  const top = nodes.filter((n) => n.name && n.name === g.primary);
  const order = { SECONDARY: 0, WITNESS: 1 };
  const rest = nodes.filter((n) => !top.includes(n))
    .sort((a, b) => (order[a.role] ?? 2) - (order[b.role] ?? 2) || nodeKey(a).localeCompare(nodeKey(b)));
  lastLinks = links(g, nodes);
  const area = h('div', { class: 'diagram-area' },
    svg('svg', { class: 'links', 'aria-hidden': 'true' }),
    top.length ? h('div', { class: 'tier tier-primary' }, top.map(card))
      : h('p', { class: 'no-primary-note', text: 'no primary' }),
    h('div', { class: 'tier tier-others' }, rest.map(card)));
  const list = h('ul', { class: 'link-list', 'aria-label': 'links between nodes' },
    lastLinks.map((l) => h('li', { 'data-link': l.kind, text: `${l.from.name} → ${nodeTitle(l.to)}: ${l.kind === 'vote' ? 'witness votes' : `replication, ${l.label}`}` })));
  $('#group').replaceChildren(area, list);
  drawLinks();
  table(nodes);
}

/** (Re)draw the SVG arrows from the cards' current positions (also on resize). */
export function drawLinks() {
  const area = $('#group .diagram-area');
  if (!area || !area.offsetParent) return;
  const box = area.getBoundingClientRect();
  const el = area.querySelector('svg.links');
  el.setAttribute('viewBox', `0 0 ${box.width} ${box.height}`);
  const defs = svg('defs', {}, ['repl', 'degraded', 'vote', 'down'].map((k) =>
    svg('marker', { id: `arrow-${k}`, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
      svg('path', { d: 'M0,0 L10,5 L0,10 z', class: `arrowhead link-${k}` }))));
  const find = (n) => area.querySelector(`.node-card[data-node="${CSS.escape(nodeKey(n))}"]`);
  const parts = lastLinks.map((l, i) => {
    const a = find(l.from), b = find(l.to);
    if (!a || !b) return null;
    const ra = a.getBoundingClientRect(), rb = b.getBoundingClientRect();
    const x1 = ra.left + ra.width / 2 - box.left + (i - (lastLinks.length - 1) / 2) * 14;
    const y1 = ra.bottom - box.top;
    const x2 = rb.left + rb.width / 2 - box.left, y2 = rb.top - box.top - 2;
    const bend = Math.max(24, (y2 - y1) / 2);
    const lw = l.label.length * 6.6 + 12, ly = y2 - 16;
    return svg('g', { class: `link link-${l.kind}` },
      svg('path', { d: `M${x1},${y1} C${x1},${y1 + bend} ${x2},${y2 - bend} ${x2},${y2}`, 'marker-end': `url(#arrow-${l.kind})` }),
      svg('rect', { x: x2 - lw / 2, y: ly - 10, width: lw, height: 20, rx: 4, class: 'link-label-bg' }),
      svg('text', { x: x2, y: ly + 4, 'text-anchor': 'middle', class: 'link-label' }, l.label));
  });
  el.replaceChildren(defs, ...parts.filter(Boolean));
}

function table(nodes) {
  const cols = ['node', 'kind', 'role', 'state', 'term', 'priority', 'LSN', 'lag', 'lag ms', 'heartbeat', 'browser'];
  const rows = nodes.map((n) => [nodeTitle(n), n.kind, n.role, n.state, n.term, n.priority, n.lsn, n.lag, n.lag_ms,
    n.heartbeat_age_ms != null ? `${age(n.heartbeat_age_ms)} ago` : '', view(n).reach]);
  $('#group-table').replaceChildren(
    h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col', text: c })))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', { text: str(c) }))))));
}
