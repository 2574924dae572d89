// main.js — boot: login/logout and session expiry, the 200 ms loop (source line age,
// group poll every 1 s, probes of the other nodes, their event logs every 5 s), the
// live stream of the current node, the banner and the "switched" notice.
import { h, $, bus, age, clock } from './util.js';
import { session, request, read, cluster, pollGroup, probeOthers, recover, inLane, resetCluster, norm } from './api.js';
import { openStream } from './sse.js';
import { renderGroup, drawLinks, problems } from './group.js';
import { initTimeline, addEvents, addNodeNames, sampleLag } from './timeline.js';
import { initActions } from './actions.js';
import { initPages, route, currentPage, loadWorkflows, loadUsers, loadDivergent } from './pages.js';

const REFRESH_ON = new Set(['NODE_ROLE_CHANGED', 'PEER_JOINED', 'PEER_LOST', 'MAINTENANCE_CHANGED', 'REPLICATION_DEGRADED', 'REPLICATION_RESTORED']);

let loop = null;
let stream = null, streamUrl = null;
let running = false;
let lastGroupPoll = 0, recovering = false, lastRecover = 0;
const logs = new Map(); // node name -> { lastId, at } of its event log

// --- login / logout ---------------------------------------------------------------
function showLogin(message) {
  $('#app').hidden = true;
  $('#login-page').hidden = false;
  const err = $('#login-error');
  err.textContent = message || '';
  err.hidden = !message;
  $('#login-password').value = '';
  $('#login-user').focus();
}

async function onLogin(e) {
  e.preventDefault();
  const btn = $('#login-submit');
  btn.disabled = true;
  $('#login-error').hidden = true;
  try {
    const r = await request(cluster.current, 'POST', '/api/v1/login', {
      body: { user: $('#login-user').value, password: $('#login-password').value }, auth: false,
    });
    session.save(r);
    start();
  } catch (err) {
    showLogin(err.message);
  } finally {
    btn.disabled = false;
  }
}

/** Stop everything the session holds open: the loop, the stream. */
function stop() {
  running = false;
  clearInterval(loop);
  loop = null;
  if (stream) stream.close();
  stream = streamUrl = null;
  resetCluster();
}

function endSession(message) {
  if (!running && $('#app').hidden) return;
  stop();
  session.clear();
  showLogin(message);
}

async function logout() {
  try { await request(cluster.current, 'POST', '/api/v1/logout', { timeout: 3000, on401: 'ignore' }); } catch { /* leave anyway */ }
  endSession('');
}

// --- the running console ----------------------------------------------------------
function start() {
  running = true;
  $('#login-page').hidden = true;
  $('#app').hidden = false;
  $('#whoami').textContent = session.user;
  route();
  lastGroupPoll = 0;
  clearInterval(loop);
  loop = setInterval(tick, 200);
  tick(); // the first group poll goes first; whoami queues behind it on the node's lane
  read('/api/v1/whoami').then((w) => {
    if (w && w.user) { $('#whoami').textContent = w.user; $('#whoami').title = w.via ? `via ${w.via}` : ''; }
  }, () => {});
}

let lastWorkflowsPoll = 0;

function tick() {
  if (!running) return;
  const now = Date.now();
  if (now >= session.expiresAt) { endSession('Your session expired; please log in again.'); return; }
  updateSource(now);
  if (cluster.noNode) {
    if (!recovering && now - lastRecover >= 1000) {
      recovering = true;
      recover().finally(() => { recovering = false; lastRecover = Date.now(); });
    }
    return;
  }
  if (now - lastGroupPoll >= 1000) { lastGroupPoll = now; pollGroup(); }
  // each node loads a deployed workflow when the change reaches it: the list follows while it is shown
  if (currentPage() === 'workflows' && now - lastWorkflowsPoll >= 3000) { lastWorkflowsPoll = now; loadWorkflows(); }
  probeOthers();
  for (const n of (cluster.group && cluster.group.nodes) || []) {
    if (!n.http || !n.name || n.name === cluster.currentName) continue;
    const r = cluster.reach.get(n.name);
    if (r && r.ok && !r.denied && now - ((logs.get(n.name) || {}).at || 0) >= 5000) pollLog(norm(n.http), n.name, true);
  }
}

function updateSource(now) {
  const src = $('#source');
  if (!cluster.group) {
    src.textContent = cluster.noNode ? 'no node of the group answers' : `connecting to ${cluster.current}…`;
    return;
  }
  let text = `as seen by ${cluster.currentName}, ${age(now - cluster.groupAt)} ago`;
  if (cluster.groupError) text += ` (last refresh failed: ${cluster.groupError})`;
  src.textContent = text;
  src.dataset.node = cluster.currentName;
}

/** Fetch the new part of one node's event log (skipIfBusy for background polls). */
async function pollLog(url, name, skipIfBusy) {
  const st = logs.get(name) || { lastId: null, at: 0 };
  logs.set(name, st);
  const q = st.lastId == null ? '?limit=500' : `?after=${encodeURIComponent(st.lastId)}&limit=500`;
  const p = inLane(url, () => request(url, 'GET', `/api/v1/events${q}`, { on401: name === cluster.currentName ? 'logout' : 'ignore' }), skipIfBusy);
  if (!p) return;
  st.at = Date.now();
  try {
    const r = await p;
    const list = (r && r.events) || [];
    addEvents(name, list);
    note(name, r && r.last_id, list);
    if (list.length >= 500) st.at = 0; // more to read: next tick
  } catch { /* retried on the next round */ }
}

function note(name, lastId, list) {
  const st = logs.get(name) || { lastId: null, at: 0 };
  logs.set(name, st);
  for (const id of [lastId, ...list.map((e) => e.id)]) {
    if (id == null) continue;
    if (st.lastId == null || Number(id) > Number(st.lastId)) st.lastId = id;
  }
}

/** Keep exactly one stream, to the current node. */
function ensureStream() {
  if (!running || (stream && streamUrl === cluster.current)) return;
  if (stream) stream.close();
  const url = cluster.current, name = cluster.currentName;
  streamUrl = url;
  stream = openStream(url, {
    lastId: () => (logs.get(name) || {}).lastId ?? null,
    onOpen: () => pollLog(url, name, false),
    onRefused: (msg) => endSession(`Session refused by ${name}: ${msg}`),
    onEvent: (ev) => {
      const fresh = addEvents(name, [ev]);
      note(name, ev.id, []);
      for (const e of fresh) {
        if (REFRESH_ON.has(e.type)) pollGroup();
        const action = (e.type === 'AUDIT' && e.data.action) || '';
        if ((action.startsWith('workflow.') || e.type === 'WORKFLOW_DEPLOY_FAILED') && currentPage() === 'workflows') loadWorkflows();
        if (action.startsWith('user.') && currentPage() === 'users') loadUsers();
        if (e.type === 'DIVERGENCE_PRESERVED' && currentPage() === 'divergent') loadDivergent();
      }
    },
  });
}

// --- banner, switched notice ------------------------------------------------------
let bannerSig = null;
function updateBanner() {
  const list = problems(cluster.group);
  const sig = JSON.stringify(list);
  if (sig === bannerSig) return;
  bannerSig = sig;
  const banner = $('#banner');
  banner.hidden = list.length === 0;
  banner.className = list.some((p) => p.id !== 'maintenance') ? 'severity-error' : 'severity-warn';
  $('#banner-list').replaceChildren(...list.map((p) => h('li', { 'data-problem': p.id, text: p.text })));
}

function showSwitched(s) {
  const el = $('#switched');
  el.dataset.from = s.from;
  el.dataset.to = s.to;
  $('#switched-text').textContent = `${s.reason || `${s.from} stopped answering`}; switched to ${s.to} at ${clock(s.at)}`;
  el.hidden = false;
}

let prevDivergent = null;
let renderQueued = false;
function queueRender() {
  if (renderQueued) return;
  renderQueued = true;
  setTimeout(() => {
    renderQueued = false;
    try { renderGroup(cluster.group); } catch (e) { console.error('group render failed', e); }
    updateBanner();
  }, 0);
}

// The page's Content-Security-Policy lists the group's node URLs as the serving node knew them when the
// page loaded. A node that announced itself later (a witness that joined after the page was served) is
// blocked by it: load the page again, which keeps the session (sessionStorage) and the page (hash).
// At most once in 30 s, so a node whose URL its peers never list cannot make the page reload in a loop.
const POLICY_RELOAD = 'tandem.policy-reload';
function onPolicyViolation(e) {
  if (!String(e.effectiveDirective || e.violatedDirective || '').startsWith('connect-src')) return;
  let blocked;
  try { blocked = new URL(e.blockedURI).origin.toLowerCase(); } catch { return; }
  const ours = ((cluster.group && cluster.group.nodes) || []).some((n) => n.http && norm(n.http).toLowerCase() === blocked);
  if (!ours) return;
  let last = 0;
  try { last = Number(sessionStorage.getItem(POLICY_RELOAD)) || 0; } catch { /* no storage: no reload either */ return; }
  if (Date.now() - last < 30_000) return;
  sessionStorage.setItem(POLICY_RELOAD, String(Date.now()));
  console.info(`${blocked} is a node of the group this page was not told of when it loaded: loading the page again`);
  location.reload();
}

function init() {
  document.addEventListener('securitypolicyviolation', onPolicyViolation);
  $('#login-form').addEventListener('submit', onLogin);
  $('#logout').addEventListener('click', logout);
  $('#switched-dismiss').addEventListener('click', () => { $('#switched').hidden = true; });
  initTimeline();
  initActions();
  initPages();
  bus.on('unauthorized', ({ message, node }) => endSession(`Session refused by ${node}: ${message}`));
  bus.on('group', (g) => {
    sampleLag(g);
    addNodeNames((g.nodes || []).map((n) => n.name));
    queueRender();
    ensureStream();
    if (g.divergent !== prevDivergent && prevDivergent !== null && currentPage() === 'divergent') loadDivergent();
    prevDivergent = g.divergent;
  });
  bus.on('reach', queueRender);
  bus.on('no-node', queueRender);
  bus.on('group-error', queueRender);
  bus.on('switched', (s) => { showSwitched(s); ensureStream(); });
  bus.on('page', (p) => { if (p === 'group') requestAnimationFrame(drawLinks); });
  if (window.ResizeObserver) new ResizeObserver(() => drawLinks()).observe($('#group'));
  if (session.load()) start(); else showLogin('');
}

init();
