// util.js — small helpers shared by every module: DOM building (never innerHTML with
// server data: all text goes through textContent / attributes), formatting, an event bus.

/** Build an HTML element. attrs: class, text, on<event>, anything else -> attribute. */
export function h(tag, attrs, ...children) {
  return fill(document.createElement(tag), attrs, children);
}

/** Build an SVG element (same conventions as h()). */
export function svg(tag, attrs, ...children) {
  return fill(document.createElementNS('http://www.w3.org/2000/svg', tag), attrs, children);
}

function fill(el, attrs, children) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k === 'text') el.textContent = String(v);
    else if (k === 'class') el.setAttribute('class', v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

export const $ = (sel, root = document) => root.querySelector(sel);

const pad = (n) => String(n).padStart(2, '0');

/** Local wall-clock time, HH:MM:SS. */
export function clock(ms) {
  const d = new Date(Number(ms));
  if (Number.isNaN(d.getTime())) return '?';
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Local date and time, for titles and "deployed at". */
export function dateTime(ms) {
  if (ms == null || ms === '') return '—';
  const d = new Date(Number(ms));
  return Number.isNaN(d.getTime()) ? String(ms) : d.toLocaleString();
}

/** A duration in ms as "0.4 s", "12 s", "3 min", "2 h". */
export function age(ms) {
  ms = Math.max(0, Number(ms) || 0);
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

/** Any value as display text (objects as compact JSON). */
export function str(v) {
  if (v == null) return '';
  if (typeof v === 'object') {
    try { return JSON.stringify(v); } catch { return String(v); }
  }
  return String(v);
}

export const isNum = (v) => typeof v === 'number' && Number.isFinite(v);

/** Minimal publish/subscribe used to decouple the modules. */
const handlers = new Map();
export const bus = {
  on(type, fn) {
    if (!handlers.has(type)) handlers.set(type, new Set());
    handlers.get(type).add(fn);
  },
  emit(type, payload) {
    for (const fn of handlers.get(type) || []) {
      try { fn(payload); } catch (e) { console.error(`handler for ${type} failed`, e); }
    }
  },
};

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
