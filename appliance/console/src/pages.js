// pages.js — hash routing (#/group, #/timeline, #/workflows, #/users, #/divergent) and
// the workflows (list, deploy, remove), users (list, set, remove) and divergent pages.
import { h, $, bus, dateTime, str } from './util.js';
import { read, act, session } from './api.js';
import { confirmAction } from './actions.js';
import { setTimelineVisible } from './timeline.js';

const PAGES = ['group', 'timeline', 'workflows', 'users', 'divergent'];
let page = null;

export function currentPage() { return page; }

/** Show the page named by the hash (default: group). */
export function route() {
  const m = /^#\/([a-z]+)/.exec(location.hash);
  page = m && PAGES.includes(m[1]) ? m[1] : 'group';
  for (const p of PAGES) {
    $(`#page-${p}`).hidden = p !== page;
    const link = $(`#nav-${p}`);
    if (p === page) link.setAttribute('aria-current', 'page'); else link.removeAttribute('aria-current');
  }
  setTimelineVisible(page === 'timeline');
  if (page === 'workflows') loadWorkflows();
  if (page === 'users') loadUsers();
  if (page === 'divergent') loadDivergent();
  bus.emit('page', page);
}

/** Load into a page: shows "loading…" only the first time, the server's message on failure. */
async function load(errSel, fn) {
  const err = $(errSel);
  try {
    await fn();
    err.hidden = true;
  } catch (e) {
    err.textContent = `could not load: ${e.message}`;
    err.hidden = false;
  }
}

// --- workflows --------------------------------------------------------------------
export function loadWorkflows() {
  return load('#workflows-error', async () => {
    const r = await read('/api/v1/workflows');
    const list = (r && r.workflows) || [];
    $('#workflows-list').replaceChildren(...(list.length ? list.map(workflowRow) : [h('p', { class: 'empty', text: 'no workflow deployed' })]));
  });
}

function workflowRow(w) {
  const sha = str(w.sha256);
  return h('article', { class: `workflow state-${w.state}`, 'data-workflow': w.name, 'data-state': w.state },
    h('header', {},
      h('h3', { text: w.name }),
      h('span', { class: `badge wf-${w.state === 'loaded' ? 'ok' : 'bad'}`, text: w.state || '?' }),
      // only a deployed workflow can be removed through the API; a local one lives in workflows.dir on each node
      w.source === 'deployed'
        ? h('button', { type: 'button', class: 'danger', 'data-remove-workflow': w.name, text: 'Remove', 'aria-label': `Remove workflow ${w.name}`, onclick: () => removeWorkflow(w.name) })
        : h('span', { class: 'muted', text: 'local (workflows.dir)', title: 'a folder in workflows.dir on each node: remove it there' })),
    w.state === 'failed' || w.error ? h('pre', { class: 'load-error', text: str(w.error) || 'failed to load (no error text)' }) : null,
    h('dl', {},
      h('div', {}, h('dt', { text: 'routes' }), h('dd', {}, (w.routes || []).length
        ? h('ul', { class: 'routes' }, w.routes.map((r) => h('li', {}, h('code', { text: r })))) : 'none')),
      h('div', {}, h('dt', { text: 'source' }), h('dd', { text: w.source || '—' })),
      h('div', {}, h('dt', { text: 'sha256' }), h('dd', {}, h('code', { title: sha, text: sha ? `${sha.slice(0, 12)}…` : '—' }))),
      h('div', {}, h('dt', { text: 'deployed by' }), h('dd', { text: w.deployed_by || '—' })),
      h('div', {}, h('dt', { text: 'deployed at' }), h('dd', { text: w.deployed_at ? dateTime(w.deployed_at) : '—' }))));
}

function removeWorkflow(name) {
  confirmAction({
    title: 'Remove workflow', okLabel: 'Remove',
    text: `Remove workflow ${name} from every data node of the group. Its routes stop answering and its hooks stop running.`,
    progress: `removing ${name}…`, label: `remove workflow ${name}`,
    run: () => act('DELETE', `/api/v1/workflows/${encodeURIComponent(name)}`),
    okText: () => `workflow ${name} removed`,
    after: loadWorkflows,
  });
}

function deploy(e) {
  e.preventDefault();
  const file = $('#deploy-file').files[0];
  const name = $('#deploy-name').value.trim() || (file ? file.name.replace(/\.zip$/i, '') : '');
  const err = $('#deploy-form-error');
  err.textContent = !file ? 'choose a .zip file first' : !name ? 'give the workflow a name' : '';
  err.hidden = !err.textContent;
  if (err.textContent) return;
  confirmAction({
    title: 'Deploy workflow', okLabel: 'Deploy',
    text: `Deploy ${name} (${file.size} bytes, from ${file.name}) to every data node of the group`,
    progress: `deploying ${name}…`, label: `deploy ${name}`,
    run: () => act('POST', `/api/v1/workflows?name=${encodeURIComponent(name)}`, file, { type: 'application/zip' }),
    okText: (w) => `workflow ${name} deployed${w && w.state ? `: ${w.state}` : ''}`,
    after: () => { $('#deploy-form').reset(); return loadWorkflows(); },
  });
}

// --- users ------------------------------------------------------------------------
let userNames = [];

export function loadUsers() {
  return load('#users-error', async () => {
    const r = await read('/api/v1/users');
    const users = (r && r.users) || [];
    userNames = users.map((u) => u.name);
    $('#users-list').replaceChildren(...users.map((u) => h('li', { 'data-user': u.name },
      h('span', { class: 'user-name', text: u.name }),
      u.name === session.user ? h('span', { class: 'badge', text: 'you' }) : null,
      h('span', { class: 'user-extra', text: Object.entries(u).filter(([k]) => k !== 'name')
        .map(([k, v]) => `${k}: ${/_at$/.test(k) ? dateTime(v) : str(v)}`).join(' · ') }),
      h('button', { type: 'button', class: 'danger', 'data-remove-user': u.name, text: 'Remove', 'aria-label': `Remove user ${u.name}`, onclick: () => removeUser(u.name) }))));
    $('#users-empty').hidden = users.length > 0;
  });
}

function removeUser(name) {
  confirmAction({
    title: 'Remove user', okLabel: 'Remove',
    text: `Remove user ${name}: they can no longer log in to any node of the group.${name === session.user ? ' This is you.' : ''}`,
    progress: `removing ${name}…`, label: `remove user ${name}`,
    run: () => act('DELETE', `/api/v1/users/${encodeURIComponent(name)}`),
    okText: () => `user ${name} removed`,
    after: loadUsers,
  });
}

function setUser(e) {
  e.preventDefault();
  const name = $('#user-name').value.trim(), password = $('#user-password').value;
  const err = $('#user-form-error');
  err.textContent = !name ? 'give a user name' : !password ? 'give a password' : '';
  err.hidden = !err.textContent;
  if (err.textContent) return;
  const exists = userNames.includes(name);
  confirmAction({
    title: exists ? 'Change password' : 'Create user', okLabel: exists ? 'Change password' : 'Create user',
    text: exists ? `Change the password of user ${name} on every node of the group.` : `Create user ${name} on every node of the group.`,
    progress: 'saving…', label: exists ? `password change for ${name}` : `create user ${name}`,
    run: () => act('POST', '/api/v1/users', { user: name, password }),
    okText: () => (exists ? `password of ${name} changed` : `user ${name} created`),
    after: () => { $('#user-form').reset(); return loadUsers(); },
  });
}

// --- divergent --------------------------------------------------------------------
export function loadDivergent() {
  return load('#divergent-error', async () => {
    const r = await read('/api/v1/divergent?limit=100');
    const rows = (r && r.changes) || [];
    const box = $('#divergent-list');
    if (!rows.length) { box.replaceChildren(h('p', { class: 'empty', text: 'no divergent changes kept' })); return; }
    const cols = [...new Set(rows.flatMap((row) => Object.keys(row || {})))];
    box.replaceChildren(h('div', { class: 'table-wrap' }, h('table', {},
      h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col', text: c })))),
      h('tbody', {}, rows.map((row) => h('tr', {}, cols.map((c) => h('td', { text: /(_at|time|_ms)$/.test(c) && typeof row[c] === 'number' && row[c] > 1e12 ? dateTime(row[c]) : str(row[c]) }))))))));
  });
}

export function initPages() {
  window.addEventListener('hashchange', route);
  $('#deploy-form').addEventListener('submit', deploy);
  $('#deploy-file').addEventListener('change', () => {
    const f = $('#deploy-file').files[0];
    if (f && !$('#deploy-name').value.trim()) $('#deploy-name').value = f.name.replace(/\.zip$/i, '');
  });
  $('#user-form').addEventListener('submit', setUser);
  $('#workflows-refresh').addEventListener('click', loadWorkflows);
  $('#users-refresh').addEventListener('click', loadUsers);
  $('#divergent-refresh').addEventListener('click', loadDivergent);
}
