// The mailbox: one list item per stored message, and the message view (headers, text, the HTML
// part in a sandboxed iframe, attachments, the raw source, and how the message arrived).
import { api, withToken } from './api.js';
import { h, icon, tlsBadge, TLS_MODES, timeEl, shortTime, bytes, facts, plural, snippet } from './lib.js';

// The filter box: from:, to: and subject: terms go to the API; other words match the sender,
// the recipients or the subject of the loaded messages.
export function parseFilter(text) {
  const params = {};
  const words = [];
  const re = /(\w+):(?:"([^"]*)"|(\S+))|"([^"]*)"|(\S+)/g;
  let m;
  while ((m = re.exec(text))) {
    const field = m[1]?.toLowerCase();
    if (field && ['from', 'to', 'subject'].includes(field)) params[field] = m[2] ?? m[3];
    else words.push((m[4] ?? m[5] ?? m[0]).toLowerCase());
  }
  return { params, words };
}

export function matchesFilter(summary, { params, words }) {
  const has = (value, needle) => String(value ?? '').toLowerCase().includes(String(needle).toLowerCase());
  const to = (summary.to || []).join(' ');
  if (params.from && !has(summary.from, params.from)) return false;
  if (params.to && !has(to, params.to)) return false;
  if (params.subject && !has(summary.subject, params.subject)) return false;
  const text = `${summary.from ?? ''} ${to} ${summary.subject ?? ''}`.toLowerCase();
  return words.every((w) => text.includes(w));
}

export function messageItem(m) {
  const arrival = m.arrival || {};
  const mode = TLS_MODES[arrival.tls_mode] || TLS_MODES.none;
  return h('a', { href: `#/messages/${m.id}`, class: 'item msg-item', 'data-id': m.id },
    h('div', { class: 'item-row' },
      h('span', { class: 'item-from' }, m.from || '(no sender)'),
      h('span', { class: 'item-time' }, timeEl(m.received_at))),
    h('div', { class: `item-subject${m.subject ? '' : ' none'}` }, m.subject || '(no subject)'),
    h('div', { class: 'item-row item-meta' },
      h('span', { class: 'item-to' }, icon('arrow'), (m.to || []).join(', ') || '(no recipients)'),
      h('span', { class: `mini-badge mini-${mode.cls}`, title: `Arrived on port ${arrival.port ?? '?'}: ${mode.words}` },
        icon(mode.icon), mode.badge === 'Implicit TLS' ? 'TLS' : mode.badge,
        arrival.port ? h('span', { class: 'mini-port' }, `:${arrival.port}`) : null)));
}

// One sentence that says how the message travelled.
export function arrivalSentence(a) {
  const where = `${a.listener || 'a listener'} (port ${a.port ?? '?'})`;
  let s;
  if (a.tls_mode === 'starttls') s = `Came in on ${where} in plaintext, then switched to ${a.tls_version || 'TLS'} with STARTTLS before the message was sent.`;
  else if (a.tls_mode === 'implicit') s = `Came in on ${where} inside ${a.tls_version || 'TLS'} from the first byte (implicit TLS).`;
  else s = `Came in on ${where} without TLS: anyone on the network path could have read it.`;
  s += a.auth_user ? ` The client logged in as ${a.auth_user}.` : ' The client did not log in.';
  return s;
}

const SECURITY_WORDS = { none: 'no TLS', starttls: 'STARTTLS', implicit: 'implicit TLS' };

// The connection drawn as a wire: amber while plaintext, green once inside TLS.
function wire(a) {
  const segs = a.tls_mode === 'starttls'
    ? [['plain', 'plaintext'], ['tls', `STARTTLS → ${a.tls_version || 'TLS'}`]]
    : a.tls_mode === 'implicit' ? [['tls', `${a.tls_version || 'TLS'} from the first byte`]] : [['plain', 'plaintext only']];
  return h('span', { class: 'route-wire', 'aria-hidden': 'true' }, segs.map(([cls, label]) =>
    h('span', { class: `wire-seg wire-${cls}` }, h('span', { class: 'wire-line' }), h('span', { class: 'wire-label' }, label))));
}

function arrivalCard(m) {
  const a = m.arrival || {};
  return h('section', { class: 'card arrival', 'aria-labelledby': 'arrival-h' },
    h('div', { class: 'card-head' },
      h('h3', { id: 'arrival-h' }, 'How it arrived'),
      tlsBadge(a.tls_mode)),
    h('div', { class: 'route' },
      h('span', { class: 'route-end' }, h('span', { class: 'route-label' }, 'client'), h('code', null, a.peer || '?'),
        a.helo ? h('span', { class: 'route-sub' }, `HELO ${a.helo}`) : null),
      wire(a),
      h('span', { class: 'route-end' }, h('span', { class: 'route-label' }, 'listener'),
        h('code', null, `${a.listener || '?'} :${a.port ?? '?'}`),
        h('span', { class: 'route-sub' }, `set up for ${SECURITY_WORDS[a.security] || a.security || '?'}`))),
    h('p', { class: 'sentence' }, arrivalSentence(a)),
    facts([
      ['TLS', a.tls ? [a.tls_version, a.tls_cipher].filter(Boolean).join(' · ') : 'none'],
      ['Login', a.auth_user ? h('span', { class: 'with-icon' }, icon('user'), a.auth_user) : 'none'],
      ['Session', a.session != null
        ? h('a', { href: `#/sessions/${a.session}`, 'data-link': 'session', class: 'link-strong' },
            `Session #${a.session}`, icon('arrow'))
        : null],
    ], 'facts facts-compact'));
}

function headerTable(headers) {
  return h('table', { class: 'headers-table' },
    h('caption', { class: 'sr-only' }, 'All headers'),
    h('tbody', null, (headers || []).map(([name, value]) =>
      h('tr', null, h('th', { scope: 'row' }, name), h('td', null, value)))));
}

// The HTML part, in an iframe with an empty sandbox: no scripts, no forms, no same-origin access,
// no top navigation. It also inherits this page's CSP, so remote images do not load.
function htmlFrame(m) {
  const frame = h('iframe', {
    class: 'html-frame', sandbox: '', referrerpolicy: 'no-referrer',
    title: `HTML body of message ${m.id}`,
  });
  frame.srcdoc = m.html;
  return h('div', { class: 'html-wrap' },
    h('p', { class: 'hint-line' }, icon('shield'),
      'Shown sandboxed: scripts, forms and remote content are blocked.'),
    frame);
}

function attachmentsBlock(m) {
  if (!m.attachments || m.attachments.length === 0) return null;
  return h('section', { class: 'attachments', 'aria-label': 'Attachments' },
    h('h3', null, icon('clip'), plural(m.attachments.length, 'attachment')),
    h('ul', null, m.attachments.map((a) =>
      h('li', null,
        h('a', { href: withToken(`/api/v1/messages/${m.id}/attachments/${a.index}`),
                 download: a.filename || `attachment-${a.index}`, class: 'attachment',
                 'data-attachment': a.index },
          icon('download'),
          h('span', { class: 'att-name' }, a.filename || `attachment ${a.index + 1}`),
          h('span', { class: 'att-meta' }, `${a.content_type || ''} · ${bytes(a.size)}`))))));
}

// Tabs (ARIA tabs pattern: arrow keys move between them).
function tabs(id, panes, initial) {
  const list = h('div', { class: 'tabs-bar', role: 'tablist', 'aria-label': 'Message body' });
  const panels = h('div', { class: 'tab-panels' });
  const buttons = [];
  const show = (key, focus) => {
    for (const b of buttons) {
      const on = b.dataset.tab === key;
      b.setAttribute('aria-selected', String(on));
      b.tabIndex = on ? 0 : -1;
      if (on && focus) b.focus();
    }
    for (const p of panels.children) p.hidden = p.dataset.tab !== key;
    const pane = panes.find((p) => p.key === key);
    if (pane && pane.load && !pane.loaded) {
      pane.loaded = true;
      pane.load(panels.querySelector(`[data-tab="${key}"]`));
    }
  };
  for (const pane of panes) {
    const b = h('button', {
      type: 'button', role: 'tab', id: `${id}-tab-${pane.key}`, 'data-tab': pane.key,
      'aria-controls': `${id}-panel-${pane.key}`, on: { click: () => show(pane.key, false) },
    }, pane.label);
    buttons.push(b);
    list.append(b);
    panels.append(h('div', {
      role: 'tabpanel', id: `${id}-panel-${pane.key}`, 'data-tab': pane.key,
      'aria-labelledby': `${id}-tab-${pane.key}`, tabindex: 0,
    }, pane.content || null));
  }
  list.addEventListener('keydown', (e) => {
    const i = buttons.indexOf(document.activeElement);
    if (i < 0) return;
    const step = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
    if (!step) return;
    e.preventDefault();
    show(buttons[(i + step + buttons.length) % buttons.length].dataset.tab, true);
  });
  show(initial, false);
  return h('div', { class: 'tabs-block' }, list, panels);
}

// ctx: {onDelete(id), sessionSubject}
export function messageView(m, ctx) {
  const panes = [];
  if (m.html != null) panes.push({ key: 'html', label: 'HTML', content: htmlFrame(m) });
  panes.push({
    key: 'text', label: 'Text',
    content: m.text != null ? h('pre', { class: 'body-text', 'data-field': 'text' }, m.text)
                            : h('p', { class: 'muted pad' }, 'This message has no text/plain part.'),
  });
  panes.push({ key: 'headers', label: 'Headers', content: headerTable(m.headers) });
  panes.push({
    key: 'raw', label: 'Raw source',
    load: async (panel) => {
      panel.replaceChildren(h('p', { class: 'muted pad' }, 'Loading the raw source…'));
      try {
        const raw = await api(`/messages/${m.id}/raw`, { as: 'text' });
        panel.replaceChildren(h('pre', { class: 'raw', 'data-field': 'raw' }, raw));
      } catch (e) {
        panel.replaceChildren(h('p', { class: 'error pad' }, `Could not load the raw source: ${e.message}`));
      }
    },
  });

  return h('article', { class: 'detail message-view', 'aria-labelledby': 'detail-title', 'data-message': m.id },
    h('div', { class: 'detail-bar' },
      h('a', { href: '#/messages', class: 'btn btn-ghost back-btn', 'aria-label': 'Back to the messages' }, icon('back'), 'Messages'),
      h('span', { class: 'spacer' }),
      h('a', { href: withToken(`/api/v1/messages/${m.id}/raw`), download: `message-${m.id}.eml`, class: 'btn btn-ghost' },
        icon('download'), 'Download .eml'),
      h('button', { type: 'button', class: 'btn btn-danger-ghost', 'data-action': 'delete-message',
                    on: { click: () => ctx.onDelete(m.id) } }, icon('trash'), 'Delete')),
    h('header', { class: 'detail-head' },
      h('h2', { id: 'detail-title', class: `subject${m.subject ? '' : ' none'}`, 'data-field': 'subject', tabindex: -1 },
        m.subject || '(no subject)'),
      facts([
        ['From', m.from],
        ['To', (m.to || []).join(', ')],
        ['Date', m.date],
        ['Received', timeEl(m.received_at, shortTime(m.received_at))],
        ['Size', bytes(m.size)],
        ['Mailboxes', (m.mailboxes || []).join(', ') || 'none (kept for relay)'],
      ], 'facts facts-head')),
    arrivalCard(m),
    attachmentsBlock(m),
    tabs(`m${m.id}`, panes, m.html != null ? 'html' : 'text'));
}

// What the message pane shows when no message is open: how to send one here.
export function messagesWelcome(info, users) {
  const ls = info?.listeners || {};
  const sub = ls.submission?.port;
  const ca = info?.ca_file || 'ca.pem';
  const user = users?.[0]?.address || 'alice@example.test';
  const rows = Object.entries(ls).filter(([, l]) => l.protocol === 'smtp' && l.port != null);
  return h('div', { class: 'welcome' },
    h('h2', { id: 'detail-title', tabindex: -1 }, 'Waiting for mail'),
    h('p', { class: 'lead' }, 'Messages appear here the moment sevenport stores them. Point a mail client at one of these:'),
    rows.length === 0 ? null : h('table', { class: 'settings-table' },
      h('thead', null, h('tr', null, h('th', null, 'Listener'), h('th', null, 'Server'), h('th', null, 'Port'), h('th', null, 'Connection security'))),
      h('tbody', null, rows.map(([name, l]) => h('tr', null,
        h('td', null, name), h('td', null, h('code', null, l.address || '127.0.0.1')), h('td', null, h('code', null, String(l.port))),
        h('td', null, tlsBadge(l.security === 'implicit' ? 'implicit' : l.security === 'starttls' ? 'starttls' : 'none')))))),
    sub ? h('div', { class: 'try' },
      h('p', null, 'Or send one from a shell:'),
      snippet(`swaks --server 127.0.0.1:${sub} --tls --tls-verify --tls-ca-path ${ca} --auth PLAIN --auth-user ${user} --to ${user}`, 'the swaks command'))
      : null,
    users?.length ? h('p', { class: 'muted' }, `Users: ${users.map((u) => u.address).join(', ')}`) : null);
}
