// Small DOM and formatting helpers shared by the views. Every piece of server data goes into the
// page as text (text nodes, textContent, attribute values): never as markup.

// h('a', {class: 'x', href: '#/', 'data-id': 7, on: {click: f}}, 'text', child, [more]) -> element.
// Attribute values false/null/undefined are left out; true sets an empty attribute.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [name, value] of Object.entries(attrs)) {
      if (value === false || value === null || value === undefined) continue;
      if (name === 'on') {
        for (const [type, fn] of Object.entries(value)) el.addEventListener(type, fn);
      } else if (name === 'text') {
        el.textContent = String(value);
      } else {
        el.setAttribute(name, value === true ? '' : String(value));
      }
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.append(child);
    else el.append(document.createTextNode(String(child)));
  }
}

// Icons: 24x24 outlines drawn with the current text colour.
const ICONS = {
  lock: ['M6 11h12a1 1 0 0 1 1 1v8a1 1 0 0 1-1 1H6a1 1 0 0 1-1-1v-8a1 1 0 0 1 1-1z', 'M8 11V7.5a4 4 0 0 1 8 0V11'],
  unlock: ['M6 11h12a1 1 0 0 1 1 1v8a1 1 0 0 1-1 1H6a1 1 0 0 1-1-1v-8a1 1 0 0 1 1-1z', 'M8 11V7.5a4 4 0 0 1 7.6-1.8'],
  mail: ['M4 5h16a1 1 0 0 1 1 1v12a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1V6a1 1 0 0 1 1-1z', 'm3.5 6.5 8.5 6.5 8.5-6.5'],
  sessions: ['M3 12h4l3-7 4 14 3-7h4'],
  trash: ['M4 7h16', 'M10 11v6', 'M14 11v6', 'M6 7l1 13h10l1-13', 'M9 7V4h6v3'],
  download: ['M12 4v11', 'm7 10 5 5 5-5', 'M5 20h14'],
  copy: ['M10 9h9a1 1 0 0 1 1 1v9a1 1 0 0 1-1 1h-9a1 1 0 0 1-1-1v-9a1 1 0 0 1 1-1z', 'M5 15H4.5a.5.5 0 0 1-.5-.5V4.5a.5.5 0 0 1 .5-.5h10a.5.5 0 0 1 .5.5V5'],
  alert: ['M10.3 4.2 2.6 18a2 2 0 0 0 1.7 3h15.4a2 2 0 0 0 1.7-3L13.7 4.2a2 2 0 0 0-3.4 0z', 'M12 9.5v4', 'M12 17h.01'],
  back: ['M19 12H5', 'm11 6-6 6 6 6'],
  reset: ['M3 12a9 9 0 1 0 2.6-6.4L3 8', 'M3 3v5h5'],
  user: ['M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8z', 'M4 21a8 8 0 0 1 16 0'],
  clip: ['m20.5 11.5-8.3 8.3a5.3 5.3 0 0 1-7.5-7.5l8.6-8.6a3.5 3.5 0 0 1 5 5l-8.6 8.6a1.8 1.8 0 0 1-2.5-2.5l7.9-7.9'],
  check: ['m5 12.5 4.5 4.5L19 7.5'],
  x: ['M6 6l12 12', 'M18 6 6 18'],
  keyboard: ['M3 6h18a1 1 0 0 1 1 1v10a1 1 0 0 1-1 1H3a1 1 0 0 1-1-1V7a1 1 0 0 1 1-1z', 'M6 10h.01M10 10h.01M14 10h.01M18 10h.01M7 14h10'],
  arrow: ['M5 12h14', 'm13 6 6 6-6 6'],
  refresh: ['M20 12a8 8 0 0 1-14.3 4.9', 'M4 12a8 8 0 0 1 14.3-4.9', 'M18.5 3v4.2h-4.2', 'M5.5 21v-4.2h4.2'],
  shield: ['M12 3 5 6v5c0 4.5 3 8.3 7 10 4-1.7 7-5.5 7-10V6l-7-3z'],
};

export function icon(name, label) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', `icon icon-${name}`);
  if (label) {
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', label);
  } else {
    svg.setAttribute('aria-hidden', 'true');
  }
  for (const d of ICONS[name] || []) {
    const path = document.createElementNS(ns, 'path');
    path.setAttribute('d', d);
    svg.append(path);
  }
  return svg;
}

// How a connection was secured, in one vocabulary everywhere: badge text, class and plain words.
export const TLS_MODES = {
  none: { badge: 'No TLS', cls: 'plain', icon: 'unlock', words: 'plaintext throughout' },
  starttls: { badge: 'STARTTLS', cls: 'starttls', icon: 'lock', words: 'plaintext, then TLS after STARTTLS' },
  implicit: { badge: 'Implicit TLS', cls: 'tls', icon: 'lock', words: 'TLS from the first byte' },
};

export function tlsBadge(mode, extra) {
  const m = TLS_MODES[mode] || TLS_MODES.none;
  // STARTTLS is drawn as what it is: an amber (plaintext) start, then green (TLS).
  const start = mode === 'starttls' ? h('span', { class: 'badge-start', 'aria-hidden': 'true' }, icon('unlock')) : null;
  return h('span', { class: `badge badge-${m.cls}`, 'data-badge': 'tls-mode', 'data-mode': mode || 'none',
                     title: `Connection security: ${m.words}` },
           start, icon(m.icon), m.badge, extra ? h('span', { class: 'badge-extra' }, extra) : null);
}

// How a listener is configured.
export const SECURITY_LABELS = { none: 'plain', starttls: 'STARTTLS', implicit: 'TLS' };

// Times. The API speaks ISO 8601 UTC; the page shows local time.
const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
const dayFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

export function shortTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const today = new Date();
  const sameDay = d.toDateString() === today.toDateString();
  return sameDay ? timeFmt.format(d) : `${dayFmt.format(d)} ${timeFmt.format(d)}`;
}

export function fullTime(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso ?? '') : fullFmt.format(d);
}

export function timeEl(iso, text) {
  return h('time', { datetime: iso, title: fullTime(iso) }, text ?? shortTime(iso));
}

export function duration(ms) {
  if (!Number.isFinite(ms) || ms < 0) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
  const m = Math.floor(ms / 60000);
  return `${m} min ${Math.round((ms % 60000) / 1000)} s`;
}

export function bytes(n) {
  if (!Number.isFinite(n)) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10240 ? 1 : 0)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

// A definition list from [term, value] pairs; pairs with an empty value are left out.
export function facts(pairs, cls = 'facts') {
  const dl = h('dl', { class: cls });
  for (const [term, value] of pairs) {
    if (value === null || value === undefined || value === '' || value === false) continue;
    dl.append(h('div', { class: 'fact' }, h('dt', null, term), h('dd', null, value)));
  }
  return dl;
}

// Status messages at the bottom of the page, read out by screen readers.
export function toast(text, kind = 'info') {
  const region = document.getElementById('toasts');
  const el = h('div', { class: `toast toast-${kind}` }, text);
  region.append(el);
  setTimeout(() => el.classList.add('leaving'), 3600);
  setTimeout(() => el.remove(), 4000);
}

// A modal question; resolves true when confirmed.
export function confirmDialog({ title, text, confirm = 'Confirm' }) {
  const dialog = document.getElementById('confirm-dialog');
  dialog.querySelector('[data-slot=title]').textContent = title;
  dialog.querySelector('[data-slot=text]').textContent = text;
  dialog.querySelector('button[value=ok]').textContent = confirm;
  dialog.returnValue = '';
  dialog.showModal();
  dialog.querySelector('button[value=cancel]').focus();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
  });
}

export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    toast('Copied to the clipboard');
  } catch {
    toast('The browser did not allow copying', 'error');
  }
}

// A click-to-copy code snippet.
export function snippet(text, label) {
  return h('div', { class: 'snippet' },
    h('code', null, text),
    h('button', { type: 'button', class: 'icon-btn', 'aria-label': `Copy ${label}`, title: 'Copy',
                  on: { click: () => copyText(text) } }, icon('copy')));
}
