// api.js — talking to the group: the bearer-token session (sessionStorage, no cookies),
// fetch with timeouts and server error messages, at most one read in flight per node,
// the "current" node, probing the other nodes, and switching node when the current one
// stops answering.
import { bus } from './util.js';

const KEY = 'tandem.session';

export const session = {
  token: null,
  user: null,
  expiresAt: Infinity,
  load() {
    try {
      const s = JSON.parse(sessionStorage.getItem(KEY) || 'null');
      if (s && s.token) { this.set(s); if (this.expiresAt > Date.now()) return true; }
    } catch { /* unreadable storage: no session */ }
    this.clear();
    return false;
  },
  set(s) {
    this.token = s.token;
    this.user = s.user || '?';
    const exp = s.expires_at == null ? NaN : Number(s.expires_at);
    // epoch ms per the API; a value that looks like epoch seconds is scaled, none means "no expiry"
    this.expiresAt = Number.isFinite(exp) ? (exp < 1e11 ? exp * 1000 : exp) : Infinity;
  },
  save(answer) {
    this.set(answer);
    try {
      sessionStorage.setItem(KEY, JSON.stringify({ token: this.token, user: this.user, expires_at: this.expiresAt }));
    } catch { /* private mode: the token stays in page memory only */ }
  },
  clear() {
    this.token = null;
    this.user = null;
    this.expiresAt = Infinity;
    try { sessionStorage.removeItem(KEY); } catch { /* ignore */ }
  },
};

export class ApiError extends Error {
  constructor(message, { status = 0, code = 'network', network = false } = {}) {
    super(message);
    Object.assign(this, { status, code, network });
  }
}

export const norm = (u) => String(u || '').replace(/\/+$/, '');
const origin = norm(location.origin);

/**
 * One HTTP call. body: plain object (sent as JSON) or Blob/File (sent raw with `type`).
 * on401: 'logout' (default: drop the session) or 'ignore' (background probes of other nodes).
 */
export async function request(base, method, path, { body, type, timeout = 5000, auth = true, on401 = 'logout' } = {}) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeout);
  const headers = { Accept: 'application/json' };
  if (auth && session.token) headers.Authorization = `Bearer ${session.token}`;
  let payload;
  if (body instanceof Blob) { payload = body; headers['Content-Type'] = type || 'application/octet-stream'; }
  else if (body !== undefined) { payload = JSON.stringify(body); headers['Content-Type'] = 'application/json'; }
  let res, text = '';
  try {
    res = await fetch(base + path, {
      method, headers, body: payload, signal: ctl.signal, cache: 'no-store', credentials: 'omit', mode: 'cors',
    });
    text = await res.text();
  } catch (e) {
    const why = ctl.signal.aborted ? `no answer within ${timeout / 1000} s` : (e && e.message) || 'network error';
    throw new ApiError(`${labelOf(base)}: ${why}`, { network: true });
  } finally {
    clearTimeout(timer);
  }
  let data = null;
  if (text) { try { data = JSON.parse(text); } catch { data = null; } }
  if (!res.ok) {
    const msg = (data && typeof data.message === 'string' && data.message) || `${res.status} ${res.statusText || 'error'}`;
    if (res.status === 401 && auth && on401 === 'logout') bus.emit('unauthorized', { message: msg, node: labelOf(base) });
    throw new ApiError(msg, { status: res.status, code: (data && data.code) || 'http' });
  }
  return data;
}

// --- one read in flight per node -------------------------------------------------
const lanes = new Map();

/** Run fn() on base's lane after the reads before it; with skipIfBusy, return null if busy. */
export function inLane(base, fn, skipIfBusy = false) {
  let lane = lanes.get(base);
  if (!lane) lanes.set(base, (lane = { busy: 0, tail: Promise.resolve() }));
  if (skipIfBusy && lane.busy) return null;
  lane.busy++;
  const run = lane.tail.then(fn);
  lane.tail = run.then(() => {}, () => {}).then(() => { lane.busy--; });
  return run;
}

/** A read against the current node, queued on its lane (page data: workflows, users...). */
export function read(path, timeout = 5000) {
  const base = cluster.current;
  return inLane(base, () => request(base, 'GET', path, { timeout }));
}

/** A mutation against the current node (not queued: one action at a time via the dialog). */
export function act(method, path, body, opts = {}) {
  return request(cluster.current, method, path, { body, timeout: 30_000, ...opts });
}

// --- the current node and the group ----------------------------------------------
export const cluster = {
  current: origin,     // base URL every call goes to
  currentName: null,   // its name (seen_by of the last group answer)
  byUrl: new Map(),    // known node URLs -> { name, kind }
  group: null,         // last /api/v1/group answer
  groupAt: 0,          // when it arrived (browser clock)
  groupError: null,    // last non-network error of the group poll
  failures: 0,         // consecutive network failures of the current node
  switching: false,
  noNode: false,       // nobody answers
  switched: null,      // { from, to, at } of the last switch
  reach: new Map(),    // node name -> { ok, health, denied, error, at } from /api/v1/node probes
};

export function labelOf(url) {
  const n = cluster.byUrl.get(norm(url));
  if (n && n.name) return n.name;
  try { return new URL(url).host; } catch { return String(url); }
}

function accept(url, g) {
  cluster.group = g;
  cluster.groupAt = Date.now();
  cluster.groupError = null;
  cluster.currentName = g.seen_by || labelOf(url);
  for (const n of g.nodes || []) {
    if (n.http && n.name) cluster.byUrl.set(norm(n.http), { name: n.name, kind: n.kind });
  }
  if (!cluster.byUrl.has(url)) cluster.byUrl.set(url, { name: cluster.currentName, kind: null });
  bus.emit('group', g);
}

let again = false;

/** Poll /api/v1/group on the current node (skipped while the previous poll is pending). */
export async function pollGroup() {
  if (cluster.switching || cluster.noNode || !session.token) return;
  const url = cluster.current;
  const t0 = Date.now();
  const p = inLane(url, () => request(url, 'GET', '/api/v1/group', { timeout: 2500 }), true);
  if (!p) { again = true; return; }
  try {
    const g = await p;
    if (url === cluster.current) { cluster.failures = 0; accept(url, g); }
  } catch (e) {
    if (url !== cluster.current || e.status === 401) return;
    if (!e.network) { cluster.groupError = e.message; bus.emit('group-error', e); return; }
    cluster.failures++;
    if (cluster.failures >= 2 || Date.now() - t0 > 2000) await findNode(false, `${labelOf(url)} stopped answering`);
  } finally {
    if (again && url === cluster.current) { again = false; setTimeout(pollGroup, 0); }
  }
}

/** Nodes to try, best first: last known primary, data nodes by priority, witness, the page's origin. */
function candidates(includeCurrent) {
  const g = cluster.group || { nodes: [] };
  const list = [];
  const skipName = includeCurrent ? null : cluster.currentName;
  const add = (u, name) => {
    u = norm(u);
    if (!u || u === 'null' || list.includes(u)) return;
    if (!includeCurrent && (u === cluster.current || (name && name === skipName))) return;
    list.push(u);
  };
  if (includeCurrent) add(cluster.current);
  const nodes = (g.nodes || []).filter((n) => n.http);
  const primary = nodes.find((n) => n.name && n.name === g.primary);
  if (primary) add(primary.http, primary.name);
  nodes.filter((n) => n.kind !== 'witness').sort((a, b) => (b.priority || 0) - (a.priority || 0)).forEach((n) => add(n.http, n.name));
  nodes.filter((n) => n.kind === 'witness').forEach((n) => add(n.http, n.name));
  add(origin);
  for (const [u, n] of cluster.byUrl) add(u, n.name);
  return list;
}

/** Try the candidates in order; switch to the first that answers /api/v1/group. */
async function findNode(includeCurrent, reason) {
  if (cluster.switching) return false;
  cluster.switching = true;
  const from = cluster.current;
  const fromName = cluster.currentName || labelOf(from);
  try {
    for (const url of candidates(includeCurrent)) {
      try {
        const g = await inLane(url, () => request(url, 'GET', '/api/v1/group', { timeout: 2000 }));
        cluster.current = url;
        cluster.failures = 0;
        const wasNoNode = cluster.noNode;
        cluster.noNode = false;
        accept(url, g);
        if (url !== from && (g.seen_by || labelOf(url)) !== fromName) {
          cluster.switched = { from: fromName, to: cluster.currentName, at: Date.now(), reason: reason || `${fromName} stopped answering` };
          bus.emit('switched', cluster.switched);
        }
        if (wasNoNode) bus.emit('no-node', false);
        return true;
      } catch (e) {
        if (e.status === 401) return false; // session refused: main shows the login page
      }
    }
    if (!cluster.noNode) { cluster.noNode = true; bus.emit('no-node', true); }
    return false;
  } finally {
    cluster.switching = false;
  }
}

/** While no node answers: called every second, tries everyone (the current node first). */
export const recover = () => findNode(true, cluster.currentName ? `${cluster.currentName} stopped answering` : null);

const probeStart = new Map();

/** Ask every other node for its own view (/api/v1/node), at most every 2 s per node. */
export function probeOthers() {
  const g = cluster.group;
  if (!g || !session.token) return;
  const now = Date.now();
  for (const n of g.nodes || []) {
    if (!n.http || !n.name || n.name === cluster.currentName) continue;
    if (now - (probeStart.get(n.name) || 0) < 2000) continue;
    const url = norm(n.http);
    const p = inLane(url, () => request(url, 'GET', '/api/v1/node', { timeout: 2000, on401: 'ignore' }), true);
    if (!p) continue;
    probeStart.set(n.name, now);
    const done = (r) => { cluster.reach.set(n.name, { ...r, at: Date.now() }); bus.emit('reach', n.name); };
    p.then(
      (info) => done({ ok: true, health: info && info.health, info }),
      (e) => done(e.network ? { ok: false, error: e.message } : { ok: true, denied: e.status === 401, error: e.message }),
    );
  }
}

/** Forget per-session state (after logout / refused session). */
export function resetCluster() {
  Object.assign(cluster, { failures: 0, switching: false, noNode: false, groupError: null });
  again = false;
}
