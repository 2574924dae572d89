// actions.js — the action bar (switchover, maintenance) and the ONE reusable confirm
// dialog every action goes through: it says what will happen, shows progress after OK,
// then closes and reports the outcome in #action-result.
import { h, $, bus } from './util.js';
import { cluster, act, pollGroup } from './api.js';

let pending = null; // { text, run, progress, label, after } of the open dialog
let busy = false;

/**
 * Ask for confirmation, then run the action.
 * opts: title, text (string or () => string), extra (element or null), okLabel,
 *       progress (text while running), label (outcome prefix), run() -> Promise<answer>,
 *       okText(answer) -> text on success, after() -> refresh, canRun() -> bool
 */
export function confirmAction(opts) {
  const dlg = $('#confirm-dialog');
  if (busy || dlg.open) return;
  pending = opts;
  $('#confirm-title').textContent = opts.title;
  $('#confirm-extra').replaceChildren(...(opts.extra ? [opts.extra] : []));
  $('#confirm-progress').hidden = true;
  $('#confirm-progress').textContent = '';
  $('#confirm-ok').textContent = opts.okLabel || 'OK';
  $('#confirm-cancel').disabled = false;
  refreshConfirm();
  dlg.showModal();
  (opts.extra && opts.extra.querySelector('select, input') || $('#confirm-cancel')).focus();
}

/** Recompute the dialog text (e.g. after the switchover target changed). */
export function refreshConfirm() {
  if (!pending) return;
  $('#confirm-text').textContent = typeof pending.text === 'function' ? pending.text() : pending.text;
  $('#confirm-ok').disabled = pending.canRun ? !pending.canRun() : false;
}

export function showResult(outcome, text) {
  const el = $('#action-result');
  el.dataset.outcome = outcome;
  el.textContent = text;
}

async function onOk() {
  if (!pending || busy) return;
  const p = pending;
  busy = true;
  $('#confirm-ok').disabled = true;
  $('#confirm-cancel').disabled = true;
  $('#confirm-progress').textContent = p.progress || 'working…';
  $('#confirm-progress').hidden = false;
  let outcome, text;
  try {
    const answer = await p.run();
    outcome = 'ok';
    text = p.okText ? p.okText(answer) : `${p.label}: ok`;
  } catch (e) {
    outcome = 'error';
    text = `${p.label} failed: ${e.message}`;
  }
  busy = false;
  $('#confirm-dialog').close();
  showResult(outcome, text);
  try { await p.after?.(); } catch { /* the next poll will catch up */ }
}

export function initActions() {
  const dlg = $('#confirm-dialog');
  $('#confirm-ok').addEventListener('click', onOk);
  $('#confirm-cancel').addEventListener('click', () => { if (!busy) dlg.close(); });
  dlg.addEventListener('cancel', (e) => { if (busy) e.preventDefault(); }); // Escape: cancel unless running
  dlg.addEventListener('close', () => { pending = null; });
  $('#action-switchover').addEventListener('click', switchover);
  $('#action-maintenance').addEventListener('click', maintenance);
  bus.on('group', updateBar);
}

function updateBar(g) {
  const b = $('#action-maintenance');
  b.textContent = g.maintenance ? 'Maintenance off' : 'Maintenance on';
  b.dataset.maintenance = g.maintenance ? 'on' : 'off';
  b.title = g.maintenance ? 'Maintenance is on; turn it off to resume automatic failover' : 'Maintenance is off; turn it on to pause automatic failover';
}

/** Secondaries that could take over, best first: up, least behind, highest priority. */
function secondaries(g) {
  const up = (n) => (n.state === 'up' ? 0 : 1);
  return (g.nodes || []).filter((n) => n.name && n.role === 'SECONDARY' && n.kind !== 'witness')
    .sort((a, b) => up(a) - up(b) || (a.lag ?? 1e18) - (b.lag ?? 1e18) || (b.priority ?? 0) - (a.priority ?? 0) || a.name.localeCompare(b.name));
}

function switchover() {
  const g = cluster.group || { nodes: [] };
  const cands = secondaries(g);
  const select = h('select', { id: 'switchover-target' }, cands.map((n) =>
    h('option', { value: n.name, text: `${n.name} (${n.state}, ${n.lag === 1 ? "1 change" : `${n.lag ?? "?"} changes`} behind, priority ${n.priority ?? '?'})` })));
  const extra = h('p', {}, h('label', { for: 'switchover-target', text: 'New primary: ' }), select);
  select.addEventListener('change', refreshConfirm);
  confirmAction({
    title: 'Switch over',
    extra,
    okLabel: 'Switch over',
    text: () => (!cands.length ? 'No secondary can take the primary role right now.'
      : `Switch over: ${g.primary || 'no current primary'} hands the primary role to ${select.value}. Writes pause for about a second.`),
    canRun: () => cands.length > 0,
    progress: 'switching over…',
    get label() { return `switchover to ${select.value}`; },
    run: () => act('POST', '/api/v1/switchover', { to: select.value }),
    okText: (r) => `switchover to ${select.value}: ok${r && r.message ? ` (${r.message})` : ''}`,
    after: pollGroup,
  });
}

function maintenance() {
  const enable = !(cluster.group && cluster.group.maintenance);
  confirmAction({
    title: enable ? 'Maintenance on' : 'Maintenance off',
    okLabel: enable ? 'Turn maintenance on' : 'Turn maintenance off',
    text: enable
      ? 'Turn maintenance on: automatic failover is paused for the whole group until maintenance is turned off. Roles stay as they are.'
      : 'Turn maintenance off: automatic failover resumes; if the primary is missing, the group elects one.',
    progress: enable ? 'turning maintenance on…' : 'turning maintenance off…',
    label: `maintenance ${enable ? 'on' : 'off'}`,
    run: () => act('POST', '/api/v1/maintenance', { enabled: enable }),
    okText: (r) => (r && r.message) || `maintenance is now ${enable ? 'on' : 'off'}`,
    after: pollGroup,
  });
}
