// timeline.js — the merged event log of all reachable nodes (deduped by node+id, newest
// first, capped at 2,000), human sentences per event type, the filters, the "recent"
// panel of the group page, and the two Chart.js charts (failover durations, lag).
import {
  Chart, BarController, BarElement, LineController, LineElement, PointElement,
  LinearScale, CategoryScale, Tooltip, Legend,
} from 'chart.js';
import { h, $, clock, dateTime, str, isNum } from './util.js';

Chart.register(BarController, BarElement, LineController, LineElement, PointElement, LinearScale, CategoryScale, Tooltip, Legend);

const MAX_EVENTS = 2000;
const LAG_WINDOW_MS = 10 * 60_000;
const events = [];              // newest first
const seen = new Set();         // "node#id"
const expanded = new Set();     // keys of open items
const nodeNames = new Set();
let visible = false;
let renderTimer = null;

const KINDS = {
  NODE_ROLE_CHANGED: 'role', HOOK_RUN: 'hook', PEER_JOINED: 'peer', PEER_LOST: 'peer',
  REPLICATION_DEGRADED: 'replication', REPLICATION_RESTORED: 'replication',
  DIVERGENCE_PRESERVED: 'divergence', MAINTENANCE_CHANGED: 'maintenance', AUDIT: 'audit',
};
const kindOf = (type) => KINDS[type] || (/^DIVERGEN/.test(type || '') ? 'divergence' : 'other');

/** Add events that came from `node`; returns the ones not seen before. */
export function addEvents(node, list) {
  const fresh = [];
  for (const ev of list || []) {
    if (!ev || ev.id == null) continue;
    const key = `${node}#${ev.id}`;
    if (seen.has(key)) continue;
    seen.add(key);
    fresh.push({ ...ev, data: ev.data && typeof ev.data === 'object' ? ev.data : {}, node, key, time: Number(ev.time) || Date.now() });
  }
  if (!fresh.length) return fresh;
  events.push(...fresh);
  events.sort((a, b) => b.time - a.time || Number(b.id) - Number(a.id));
  while (events.length > MAX_EVENTS) seen.delete(events.pop().key);
  addNodeNames([node]);
  schedule();
  return fresh;
}

/** Keep the node filter's options in step with the nodes known. */
export function addNodeNames(names) {
  let changed = false;
  for (const n of names) if (n && !nodeNames.has(n)) { nodeNames.add(n); changed = true; }
  if (!changed) return;
  const sel = $('#filter-node');
  const value = sel.value;
  sel.replaceChildren(h('option', { value: 'all', text: 'all nodes' }),
    ...[...nodeNames].sort().map((n) => h('option', { value: n, text: n })));
  sel.value = [...sel.options].some((o) => o.value === value) ? value : 'all';
}

/** The human sentence of one event. */
export function describe(ev) {
  const d = ev.data || {};
  switch (ev.type) {
    case 'NODE_ROLE_CHANGED': {
      let s = `${ev.node} became ${d.new ?? '?'}`;
      if (d.term != null) s += ` in term ${d.term}`;
      if (d.previous) s += ` (was ${d.previous})`;
      if (d.new === 'PRIMARY' && isNum(d.took_ms)) s += ` in ${d.took_ms} ms`;
      return d.reason ? `${s}: ${d.reason}` : s;
    }
    case 'HOOK_RUN':
      return `hook ${d.hook ?? '?'} of ${d.workflow ?? '?'}: ${d.outcome ?? '?'}${isNum(d.duration_ms) ? ` after ${d.duration_ms} ms` : ''}${d.event ? ` (on ${d.event})` : ''}`;
    case 'PEER_JOINED': return `peer ${d.peer ?? '?'} joined`;
    case 'PEER_LOST': return `peer ${d.peer ?? '?'} lost`;
    case 'REPLICATION_DEGRADED': return `replication degraded${d.lsn != null ? ` at LSN ${d.lsn}` : ''}${d.reason ? `: ${d.reason}` : ''}`;
    case 'REPLICATION_RESTORED': return `replication restored${d.secondary ? ` with ${d.secondary}` : ''}${d.lsn != null ? ` at LSN ${d.lsn}` : ''}`;
    case 'DIVERGENCE_PRESERVED':
      return `${d.changes ?? '?'} divergent change(s) after LSN ${d.after_lsn ?? '?'} preserved${d.primary ? ` (primary ${d.primary})` : ''}`;
    case 'MAINTENANCE_CHANGED': return d.enabled ? 'maintenance turned on: automatic failover paused' : 'maintenance turned off: automatic failover resumed';
    case 'AUDIT': {
      const who = d.user || 'someone';
      const how = `${d.outcome ?? d.status ?? '?'}${d.outcome && d.status && d.outcome !== 'ok' ? ` (${d.status})` : ''}`;
      const from = d.from ? ` from ${d.from}` : '';
      if (d.action === 'login') return `${who} logged in${from}: ${how}`;
      if (d.action === 'logout') return `${who} logged out${from}: ${how}`;
      const prep = d.action === 'switchover' ? 'to' : 'on';
      return `${who} ran ${d.action ?? '?'}${d.target != null && d.target !== '' ? ` ${prep} ${str(d.target)}` : ''}${from}: ${how}`;
    }
    case 'WORKFLOW_DEPLOY_FAILED':
      return `deploy of workflow ${d.workflow ?? d.name ?? '?'} failed${d.error || d.message ? `: ${str(d.error || d.message).split('\n')[0]}` : ''}`;
    case 'COMMAND_RUN':
      return `command ${str(d.command ?? d.name ?? '?')} ran${d.outcome ? `: ${d.outcome}` : ''}${isNum(d.duration_ms) ? ` after ${d.duration_ms} ms` : ''}`;
    default: {
      const text = str(d);
      return `${ev.type || 'event'}${text && text !== '{}' ? `: ${text.length > 200 ? `${text.slice(0, 200)}…` : text}` : ''}`;
    }
  }
}

function detail(ev) {
  const d = ev.data || {};
  if (ev.type !== 'HOOK_RUN') return JSON.stringify(d, null, 2);
  const head = [`workflow: ${d.workflow ?? '?'}`, `hook: ${d.hook ?? '?'}`, `event: ${d.event ?? '?'}`, `term: ${d.term ?? '?'}`,
    `started: ${d.start != null ? dateTime(d.start) : '?'}`, `duration: ${d.duration_ms ?? '?'} ms`, `outcome: ${d.outcome ?? '?'}`];
  return `${head.join('\n')}\n\n--- output ---\n${str(d.output) || '(none)'}\n\n--- error ---\n${str(d.error) || '(none)'}`;
}

function item(ev) {
  const d = ev.data;
  const open = expanded.has(ev.key);
  const li = h('li', {
    class: `event kind-${kindOf(ev.type)}${d.outcome && d.outcome !== 'ok' ? ' failed' : ''}`,
    'data-type': ev.type, 'data-node': ev.node, 'data-id': ev.id, 'data-key': ev.key, tabindex: 0,
    'aria-expanded': String(open),
    'data-outcome': ev.type === 'HOOK_RUN' || ev.type === 'AUDIT' ? d.outcome ?? '' : null,
    'data-took-ms': ev.type === 'NODE_ROLE_CHANGED' && d.new === 'PRIMARY' && isNum(d.took_ms) ? d.took_ms : null,
  },
  h('time', { datetime: new Date(ev.time).toISOString(), title: dateTime(ev.time), text: clock(ev.time) }),
  h('span', { class: 'event-node', text: ev.node }),
  h('span', { class: 'event-type', text: ev.type }),
  h('span', { class: 'event-text', text: describe(ev) }));
  if (open) li.append(h('pre', { class: 'event-detail', text: detail(ev) }));
  return li;
}

function toggle(li) {
  const ev = events.find((e) => e.key === li.dataset.key);
  if (!ev) return;
  if (expanded.has(ev.key)) expanded.delete(ev.key); else expanded.add(ev.key);
  const fresh = item(ev);
  li.replaceWith(fresh);
  fresh.focus();
}

/** Wire the list and the filters (once). */
export function initTimeline() {
  const list = $('#timeline-list');
  list.addEventListener('click', (e) => {
    if (e.target.closest('.event-detail')) return; // let people select text
    const li = e.target.closest('li.event');
    if (li) toggle(li);
  });
  list.addEventListener('keydown', (e) => {
    const li = e.target.closest('li.event');
    if (li && e.target === li && (e.key === 'Enter' || e.key === ' ')) { e.preventDefault(); toggle(li); }
  });
  $('#filter-kind').addEventListener('change', render);
  $('#filter-node').addEventListener('change', render);
}

function schedule() {
  if (renderTimer) return;
  renderTimer = setTimeout(() => { renderTimer = null; renderRecent(); if (visible) render(); }, 50);
}

function render() {
  const kind = $('#filter-kind').value, node = $('#filter-node').value;
  const shown = events.filter((e) => (kind === 'all' || kindOf(e.type) === kind) && (node === 'all' || e.node === node));
  const list = $('#timeline-list');
  const focusKey = document.activeElement && list.contains(document.activeElement) ? document.activeElement.dataset.key : null;
  list.replaceChildren(...shown.map(item));
  $('#timeline-empty').hidden = shown.length > 0;
  $('#timeline-count').textContent = `${shown.length} of ${events.length} events`;
  if (focusKey) { const f = list.querySelector(`li[data-key="${CSS.escape(focusKey)}"]`); if (f) f.focus(); }
  updateCharts();
}

function renderRecent() {
  const recent = events.slice(0, 10);
  $('#recent-list').replaceChildren(...recent.map((ev) => h('li', {
    class: `recent-event kind-${kindOf(ev.type)}`, 'data-type': ev.type, 'data-node': ev.node, 'data-id': ev.id,
  }, h('time', { datetime: new Date(ev.time).toISOString(), text: clock(ev.time) }), ' ',
  h('span', { class: 'event-node', text: ev.node }), ' ', h('span', { text: describe(ev) }))));
  $('#recent-empty').hidden = recent.length > 0;
}

/** The timeline page is shown (true) or hidden (false). */
export function setTimelineVisible(v) {
  visible = v;
  if (v) render();
}

// --- charts -----------------------------------------------------------------------
const lag = new Map(); // secondary name -> [{ t, changes, ms }]
let failChart = null, lagChart = null;
const PALETTE = ['#2f81f7', '#d2691e', '#2da44e', '#a371f7', '#e5534b', '#0aa5a5'];
const reduced = matchMedia('(prefers-reduced-motion: reduce)');

/** Record the lag of each secondary from one /api/v1/group answer. */
export function sampleLag(g, t = Date.now()) {
  for (const n of g.nodes || []) {
    if (n.role !== 'SECONDARY' || !n.name) continue;
    if (!lag.has(n.name)) lag.set(n.name, []);
    lag.get(n.name).push({ t, changes: isNum(n.lag) ? n.lag : null, ms: isNum(n.lag_ms) ? n.lag_ms : null });
  }
  for (const [name, pts] of lag) {
    while (pts.length && pts[0].t < t - LAG_WINDOW_MS) pts.shift();
    if (!pts.length) lag.delete(name);
  }
  if (visible) updateCharts();
}

function themeColors() {
  const css = getComputedStyle(document.documentElement);
  return { fg: css.getPropertyValue('--fg').trim() || '#222', grid: css.getPropertyValue('--border').trim() || '#ccc' };
}

function baseOptions() {
  const c = themeColors();
  Chart.defaults.color = c.fg;
  Chart.defaults.borderColor = c.grid;
  return { responsive: true, maintainAspectRatio: false, animation: reduced.matches ? false : { duration: 300 } };
}

function createCharts() {
  failChart = new Chart($('#chart-failover'), {
    type: 'bar',
    data: { labels: [], datasets: [{ label: 'failover / promotion (ms)', data: [], backgroundColor: PALETTE[0] }] },
    options: { ...baseOptions(), plugins: { legend: { display: false } },
      scales: { y: { beginAtZero: true, title: { display: true, text: 'ms' } } } },
  });
  lagChart = new Chart($('#chart-lag'), {
    type: 'line',
    data: { datasets: [] },
    options: { ...baseOptions(), parsing: true, spanGaps: true,
      interaction: { mode: 'nearest', intersect: false },
      plugins: { tooltip: { callbacks: { title: (items) => (items.length ? clock(items[0].parsed.x) : '') } } },
      scales: {
        x: { type: 'linear', ticks: { callback: (v) => clock(v), maxTicksLimit: 6 } },
        y: { beginAtZero: true, position: 'left', title: { display: true, text: 'changes behind' } },
        ms: { beginAtZero: true, position: 'right', grid: { drawOnChartArea: false }, title: { display: true, text: 'ms behind' } },
      } },
  });
}

function updateCharts() {
  if (!visible) return;
  if (!failChart) createCharts();
  const promos = events.filter((e) => e.type === 'NODE_ROLE_CHANGED' && e.data.new === 'PRIMARY' && isNum(e.data.took_ms))
    .slice(0, 50).reverse();
  failChart.data.labels = promos.map((e) => [clock(e.time), `term ${e.data.term ?? '?'} · ${e.node}`]);
  failChart.data.datasets[0].data = promos.map((e) => e.data.took_ms);
  failChart.update(reduced.matches ? 'none' : undefined);
  const last = promos[promos.length - 1];
  $('#failover-summary').textContent = promos.length
    ? `${promos.length} promotion(s); last ${last.data.took_ms} ms (${last.node}, term ${last.data.term ?? '?'}), longest ${Math.max(...promos.map((e) => e.data.took_ms))} ms`
    : 'no promotion recorded yet';

  const now = Date.now();
  const sets = [];
  [...lag.keys()].sort().forEach((name, i) => {
    const color = PALETTE[i % PALETTE.length], pts = lag.get(name);
    sets.push({ label: `${name}: changes`, yAxisID: 'y', borderColor: color, backgroundColor: color, pointRadius: 0, borderWidth: 2,
      data: pts.map((p) => ({ x: p.t, y: p.changes })) });
    sets.push({ label: `${name}: ms`, yAxisID: 'ms', borderColor: color, backgroundColor: color, pointRadius: 0, borderWidth: 1.5, borderDash: [6, 4],
      data: pts.map((p) => ({ x: p.t, y: p.ms })) });
  });
  lagChart.data.datasets = sets;
  lagChart.options.scales.x.min = now - LAG_WINDOW_MS;
  lagChart.options.scales.x.max = now;
  lagChart.update('none');
  $('#lag-summary').textContent = lag.size
    ? [...lag].map(([n, pts]) => { const p = pts[pts.length - 1]; return `${n}: ${p.changes ?? '?'} changes, ${p.ms ?? '?'} ms behind`; }).join('; ')
    : 'no secondary sampled yet';
}

/** Re-read theme colours when the colour scheme flips. */
matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
  for (const c of [failChart, lagChart]) c && c.destroy();
  failChart = lagChart = null;
  updateCharts();
});
