// sse.js — the live event stream of the current node. EventSource cannot send the
// bearer token, so this reads /api/v1/events/stream with fetch() and parses the
// server-sent-events lines itself; it reconnects with backoff and gives up on a
// stream that has been silent for 45 s (the server sends comment lines to keep it alive).
import { session } from './api.js';

const IDLE_MS = 45_000;

/**
 * Open a stream to base. Callbacks: onEvent(event), onOpen(), onRefused(message).
 * lastId() gives the last event id seen (sent as Last-Event-ID on reconnect).
 * Returns { close() }.
 */
export function openStream(base, { onEvent, onOpen, onRefused, lastId }) {
  const outer = new AbortController();
  let delay = 1000;

  (async () => {
    while (!outer.signal.aborted) {
      const conn = new AbortController();
      const stop = () => conn.abort();
      outer.signal.addEventListener('abort', stop);
      let idle = setTimeout(stop, IDLE_MS);
      const alive = () => { clearTimeout(idle); idle = setTimeout(stop, IDLE_MS); };
      try {
        const headers = { Accept: 'text/event-stream', Authorization: `Bearer ${session.token}` };
        const last = lastId();
        if (last != null) headers['Last-Event-ID'] = String(last);
        const res = await fetch(`${base}/api/v1/events/stream`, {
          headers, signal: conn.signal, cache: 'no-store', credentials: 'omit', mode: 'cors',
        });
        if (res.status === 401) {
          let msg = 'session refused';
          try { msg = (await res.json()).message || msg; } catch { /* no body */ }
          onRefused(msg);
          return;
        }
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        delay = 1000;
        alive();
        onOpen();
        await parse(res.body, onEvent, alive);
      } catch { /* network error, timeout or closed: reconnect below */ }
      finally {
        clearTimeout(idle);
        outer.signal.removeEventListener('abort', stop);
      }
      if (outer.signal.aborted) return;
      await new Promise((r) => { const t = setTimeout(r, delay); outer.signal.addEventListener('abort', () => { clearTimeout(t); r(); }); });
      delay = Math.min(delay * 2, 15_000);
    }
  })();

  return { close: () => outer.abort() };
}

/** Parse "field: value" lines; a blank line dispatches the event (data is one event's JSON). */
async function parse(body, onEvent, alive) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  let data = [], type = null, id = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    alive();
    buf += value;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).replace(/\r$/, '');
      buf = buf.slice(nl + 1);
      if (line === '') {
        if (data.length) {
          let ev = null;
          try { ev = JSON.parse(data.join('\n')); } catch { /* not JSON: ignore */ }
          if (ev && typeof ev === 'object') {
            if (ev.id == null && id != null) ev.id = id;
            if (!ev.type && type) ev.type = type;
            onEvent(ev);
          }
        }
        data = []; type = null;
        continue;
      }
      if (line.startsWith(':')) continue; // comment / keep-alive
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const val = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') data.push(val);
      else if (field === 'event') type = val;
      else if (field === 'id') id = val;
    }
  }
}
