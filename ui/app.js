// The sevenport web UI: routing (#/messages, #/messages/7, #/sessions, #/sessions/15), the
// header with the server's listeners, the two lists kept live by the event stream, keyboard
// shortcuts, and the dialogs (token, confirmations, shortcuts).
import { api, subscribe, setTokenPrompt, ApiError } from './api.js';
import { h, icon, toast, confirmDialog, copyText, SECURITY_LABELS, plural } from './lib.js';
import { ListView } from './list.js';
import { messageItem, messageView, messagesWelcome, parseFilter, matchesFilter } from './messages.js';
import { sessionItem, sessionView, sessionsWelcome, matchesSessionFilter } from './sessions.js';

const PAGE = 100;          // messages per request ("Load more" fetches the next page)
const SESSIONS_SHOWN = 200;
const LISTENER_ORDER = ['smtp', 'submission', 'submissions', 'imap', 'imaps', 'pop3', 'pop3s', 'http'];

const state = {
  info: null,
  users: [],
  messages: [],       // summaries as loaded for the current filter, newest first
  total: 0,
  filter: parseFilter(''),
  sessions: [],       // SessionSummary, newest first
  sessionFilter: '',
  loaded: { messages: false, sessions: false },
  route: { view: 'messages', id: null },
  detail: null,       // the message or session shown
  freshMessages: new Set(),  // keys of items that arrived live, to flash once
  freshSessions: new Set(),
};

const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------- lists

const messageList = new ListView({
  label: 'Messages',
  keyOf: (m) => m.id,
  render: messageItem,
  empty: (text) => h('div', null, h('span', { class: 'pulse big', 'aria-hidden': 'true' }),
    h('p', null, text || 'No mail yet. New messages appear here as they arrive.')),
});

const sessionList = new ListView({
  label: 'Sessions',
  keyOf: (s) => s.id,
  render: sessionItem,
  empty: (text) => h('p', null, text || 'No sessions yet. Each connection to a mail port appears here.'),
});

function visibleMessages() {
  return state.messages.filter((m) => matchesFilter(m, state.filter));
}

function renderMessageList() {
  const items = visibleMessages();
  const filtered = $('message-filter').value.trim() !== '';
  messageList.setItems(items, {
    fresh: state.freshMessages,
    emptyText: !state.loaded.messages ? 'Loading…' : filtered ? 'No message matches the filter.' : null,
  });
  const shown = items.length;
  $('message-count').textContent = filtered || shown < state.total
    ? `${shown} of ${state.total}` : plural(state.total, 'message');
  $('count-messages').textContent = state.total ? String(state.total) : '';
  $('load-more').hidden = state.messages.length >= state.total;
  $('delete-all').disabled = state.total === 0;
}

function renderSessionList() {
  const items = state.sessions.filter((s) => matchesSessionFilter(s, state.sessionFilter));
  sessionList.setItems(items, {
    fresh: state.freshSessions,
    emptyText: !state.loaded.sessions ? 'Loading…' : state.sessionFilter ? 'No session matches the filter.' : null,
  });
  const open = state.sessions.filter((s) => s.open).length;
  $('session-count').textContent = `${plural(state.sessions.length, 'session')}${open ? `, ${open} open` : ''}`;
  $('count-sessions').textContent = state.sessions.length ? String(state.sessions.length) : '';
}

async function loadMessages({ append = false } = {}) {
  const params = new URLSearchParams({ limit: String(PAGE), offset: String(append ? state.messages.length : 0) });
  for (const [k, v] of Object.entries(state.filter.params)) params.set(k, v);
  try {
    const res = await api(`/messages?${params}`);
    const got = res.messages || [];
    state.messages = append ? dedupe([...state.messages, ...got]) : got;
    state.total = res.total ?? state.messages.length;
    state.loaded.messages = true;
  } catch (e) {
    toast(`Could not load the messages: ${e.message}`, 'error');
  }
  renderMessageList();
  messageList.select(state.route.view === 'messages' ? state.route.id : null);
}

async function loadSessions() {
  try {
    const res = await api(`/sessions?limit=${SESSIONS_SHOWN}`);
    state.sessions = res.sessions || [];
    state.loaded.sessions = true;
  } catch (e) {
    toast(`Could not load the sessions: ${e.message}`, 'error');
  }
  renderSessionList();
  sessionList.select(state.route.view === 'sessions' ? state.route.id : null);
}

function dedupe(list) {
  const seen = new Set();
  return list.filter((x) => (seen.has(x.id) ? false : seen.add(x.id)));
}

// ---------------------------------------------------------------- header

function renderInfo() {
  const info = state.info;
  if (!info) return;
  $('version').textContent = info.version ? `v${info.version}` : '';
  const names = Object.keys(info.listeners || {}).sort((a, b) => {
    const ia = LISTENER_ORDER.indexOf(a);
    const ib = LISTENER_ORDER.indexOf(b);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b);
  });
  $('listeners').replaceChildren(...names.map((name) => {
    const l = info.listeners[name];
    const sec = l.security || 'none';
    const off = l.port === null || l.port === undefined;
    return h('li', {
      class: `listener sec-${sec}${off ? ' off' : ''}`, 'data-listener': name,
      title: off ? `${name}: not served by this version`
                 : `${name}: ${String(l.protocol || '').toUpperCase()} on ${l.address || ''}:${l.port}, ${SECURITY_LABELS[sec] || sec}`,
    },
    h('span', { class: 'l-name' }, name),
    h('span', { class: 'l-port' }, off ? '—' : String(l.port)),
    l.protocol === 'http' ? null : h('span', { class: 'l-sec' }, icon(sec === 'none' ? 'unlock' : 'lock'), SECURITY_LABELS[sec] || sec));
  }));
  const ca = info.ca_file || '';
  // Long paths lose their middle, not the file name.
  $('ca-file').textContent = ca.length > 48 ? `${ca.slice(0, 14)}…${ca.slice(-33)}` : ca;
  $('ca-file').title = ca;
  $('ca-copy').hidden = !ca;
}

async function loadInfo() {
  try {
    state.info = await api('/info');
    renderInfo();
  } catch (e) {
    toast(`Could not reach sevenport: ${e.message}`, 'error');
  }
  try {
    state.users = (await api('/users')).users || [];
  } catch { /* optional */ }
}

// ---------------------------------------------------------------- routing

let navStack = [];     // in-app history, so Esc can go back where the user came from
let detailToken = 0;   // guards against a slow response overwriting a newer view
let openSessionTimer = null;

function parseRoute() {
  const m = /^#\/(messages|sessions)(?:\/(\d+))?\/?$/.exec(location.hash);
  if (!m) return null;
  return { view: m[1], id: m[2] ? Number(m[2]) : null };
}

function go(hash) {
  if (location.hash !== hash) location.hash = hash;
}

async function route() {
  const r = parseRoute();
  if (!r) {
    location.replace('#/messages');
    return;
  }
  if (navStack[navStack.length - 2] === location.hash) navStack.pop();
  else if (navStack[navStack.length - 1] !== location.hash) navStack.push(location.hash);

  const previous = state.route;
  state.route = r;
  const main = $('main');
  main.dataset.view = r.view;
  main.dataset.detail = r.id !== null ? 'open' : 'none';
  $('messages-pane').hidden = r.view !== 'messages';
  $('sessions-pane').hidden = r.view !== 'sessions';
  for (const v of ['messages', 'sessions']) {
    const tab = $(`tab-${v}`);
    if (v === r.view) tab.setAttribute('aria-current', 'page');
    else tab.removeAttribute('aria-current');
  }
  messageList.select(r.view === 'messages' ? r.id : null);
  sessionList.select(r.view === 'sessions' ? r.id : null);
  clearTimeout(openSessionTimer);

  const detail = $('detail');
  const myToken = ++detailToken;
  const cameFromList = previous.view === r.view && previous.id === null;
  if (r.id === null) {
    state.detail = null;
    detail.replaceChildren(r.view === 'messages' ? messagesWelcome(state.info, state.users) : sessionsWelcome());
    document.title = r.view === 'messages' ? 'Messages · sevenport' : 'Sessions · sevenport';
    // Back from a detail: the list item that was open gets the focus again.
    if (previous.view === r.view && previous.id !== null) {
      const list = r.view === 'messages' ? messageList : sessionList;
      list.setActive(String(previous.id));
    }
    return;
  }
  // Moving between items keeps the old one on screen until the new one is here (no flicker).
  if (!state.detail || state.detail.kind !== r.view) {
    detail.replaceChildren(h('p', { class: 'muted pad' }, 'Loading…'));
  }
  await showDetail(r, myToken, cameFromList && document.activeElement?.closest?.('.list'));
}

async function showDetail(r, myToken, moveFocus) {
  const detail = $('detail');
  try {
    if (r.view === 'messages') {
      const m = await api(`/messages/${r.id}`);
      if (myToken !== detailToken) return;
      state.detail = { kind: 'messages', id: r.id, data: m };
      detail.replaceChildren(messageView(m, { onDelete: deleteMessage }));
      document.title = `${m.subject || '(no subject)'} · sevenport`;
    } else {
      const s = await api(`/sessions/${r.id}`);
      if (myToken !== detailToken) return;
      const same = state.detail?.kind === 'sessions' && state.detail.id === r.id
        && JSON.stringify(state.detail.data) === JSON.stringify(s);
      if (same) {
        // Nothing new: keep the DOM (and the focus and selection in it) as it is.
        if (s.open && document.visibilityState === 'visible') openSessionTimer = setTimeout(() => refreshSession(r.id), 2000);
        return;
      }
      const keepScroll = state.detail?.kind === 'sessions' && state.detail.id === r.id ? detail.scrollTop : 0;
      state.detail = { kind: 'sessions', id: r.id, data: s };
      detail.replaceChildren(sessionView(s, {
        subjectOf: (id) => state.messages.find((m) => m.id === id)?.subject,
        onRefresh: () => refreshSession(r.id),
      }));
      detail.scrollTop = keepScroll;
      document.title = `Session #${s.id} · sevenport`;
      // An open session is still talking: follow it until it closes.
      if (s.open && document.visibilityState === 'visible') {
        openSessionTimer = setTimeout(() => refreshSession(r.id), 2000);
      }
    }
    if (moveFocus) $('detail-title')?.focus({ preventScroll: true });
  } catch (e) {
    if (myToken !== detailToken) return;
    state.detail = null;
    const what = r.view === 'messages' ? `Message #${r.id}` : `Session #${r.id}`;
    detail.replaceChildren(h('div', { class: 'welcome' },
      h('h2', { id: 'detail-title', tabindex: -1 }, e instanceof ApiError && e.status === 404 ? `${what} is not here` : `Could not load ${what}`),
      h('p', { class: 'lead' }, e instanceof ApiError && e.status === 404
        ? 'It was deleted, or the server was reset or restarted.' : e.message),
      h('a', { href: `#/${r.view}`, class: 'btn' }, icon('back'), `All ${r.view}`)));
  }
}

function refreshSession(id) {
  const r = state.route;
  if (r.view !== 'sessions' || r.id !== id) return;
  clearTimeout(openSessionTimer);
  showDetail(r, ++detailToken, false);
}

function goBack() {
  const r = state.route;
  if (r.id === null) return false;
  if (navStack.length > 1) history.back();
  else go(`#/${r.view}`);
  return true;
}

// ---------------------------------------------------------------- actions

async function deleteMessage(id) {
  try {
    await api(`/messages/${id}`, { method: 'DELETE' });
  } catch (e) {
    toast(`Could not delete message #${id}: ${e.message}`, 'error');
    return;
  }
  const visible = visibleMessages();
  const index = visible.findIndex((m) => m.id === id);
  const next = visible[index + 1] || visible[index - 1];
  state.messages = state.messages.filter((m) => m.id !== id);
  state.total = Math.max(0, state.total - 1);
  renderMessageList();
  toast(`Message #${id} deleted`);
  navStack = [];
  location.replace(next ? `#/messages/${next.id}` : '#/messages');
}

async function deleteAll() {
  const n = state.total;
  const ok = await confirmDialog({
    title: 'Delete all messages?',
    text: `All ${plural(n, 'message')} in every mailbox will be deleted. Sessions and users stay.`,
    confirm: 'Delete all',
  });
  if (!ok) return;
  try {
    const res = await api('/messages', { method: 'DELETE' });
    toast(`${plural(res.deleted ?? n, 'message')} deleted`);
  } catch (e) {
    toast(`Could not delete: ${e.message}`, 'error');
  }
  state.messages = [];
  state.total = 0;
  go('#/messages');
  await loadMessages();
}

async function reset() {
  const ok = await confirmDialog({
    title: 'Reset sevenport?',
    text: 'Forgets every message and every closed session. Users and open connections stay.',
    confirm: 'Reset',
  });
  if (!ok) return;
  try {
    await api('/reset', { method: 'POST' });
    toast('Reset: messages and closed sessions forgotten');
  } catch (e) {
    toast(`Could not reset: ${e.message}`, 'error');
  }
  navStack = [];
  go(`#/${state.route.view}`);
  await Promise.all([loadMessages(), loadSessions()]);
  route();
}

// ---------------------------------------------------------------- live events

function upsertSession(summary) {
  const i = state.sessions.findIndex((s) => s.id === summary.id);
  if (i >= 0) state.sessions[i] = { ...state.sessions[i], ...summary };
  else {
    state.sessions.unshift(summary);
    state.sessions.sort((a, b) => b.id - a.id);
    state.freshSessions.add(String(summary.id));
  }
  renderSessionList();
}

function patchSession(id, fn) {
  const s = state.sessions.find((x) => x.id === id);
  if (s) {
    fn(s);
    renderSessionList();
  }
}

function touchesOpenDetail(sessionId) {
  const r = state.route;
  if (r.view === 'sessions' && r.id === sessionId) refreshSession(sessionId);
}

const handlers = {
  message(m) {
    if (state.messages.some((x) => x.id === m.id)) return;
    state.freshMessages.add(String(m.id));
    // The server-side filter terms: only count what the list would hold.
    if (matchesFilter(m, { params: state.filter.params, words: [] })) {
      state.messages.unshift(m);
      state.total += 1;
      renderMessageList();
    }
    const sid = m.arrival?.session;
    if (sid != null) {
      patchSession(sid, (s) => { s.messages = [...new Set([...(s.messages || []), m.id])]; });
      touchesOpenDetail(sid);
    }
    announce(`New message from ${m.from || 'unknown sender'}: ${m.subject || '(no subject)'}`);
  },
  session_opened(s) {
    upsertSession(s);
  },
  session_closed(s) {
    upsertSession(s);
    touchesOpenDetail(s.id);
  },
  tls(e) {
    patchSession(e.session, (s) => {
      s.tls_mode = e.tls_mode;
      s.tls = { ...(s.tls || {}), version: e.version, cipher: e.cipher };
    });
    touchesOpenDetail(e.session);
  },
  auth(e) {
    patchSession(e.session, (s) => { s.auth = [...(s.auth || []), e]; });
    touchesOpenDetail(e.session);
  },
};

function announce(text) {
  $('announcer').textContent = text;
}

function setLive(status, { resumed } = {}) {
  const live = $('live');
  live.dataset.status = status;
  live.querySelector('.label').textContent = { live: 'Live', reconnecting: 'Reconnecting…', offline: 'Offline' }[status];
  live.title = {
    live: 'Receiving updates from sevenport as they happen',
    reconnecting: 'The event stream dropped; reconnecting',
    offline: 'sevenport is not answering; retrying',
  }[status];
  if (status === 'live' && resumed) {
    // Whatever happened while the stream was down: load it now.
    loadInfo();
    loadMessages();
    loadSessions();
  }
}

// ---------------------------------------------------------------- dialogs

function askToken(rejected) {
  const dialog = $('token-dialog');
  const input = $('token-input');
  $('token-error').hidden = !rejected;
  input.value = '';
  if (!dialog.open) dialog.showModal();
  input.focus();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(input.value.trim() || null), { once: true });
  });
}

// ---------------------------------------------------------------- keyboard

function typingIn(target) {
  return target instanceof HTMLElement
    && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));
}

function currentList() {
  return state.route.view === 'messages' ? messageList : sessionList;
}

function onKey(e) {
  if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey) return;
  if (document.querySelector('dialog[open]')) return;
  const target = e.target;
  if (typingIn(target)) {
    if (e.key === 'Escape') {
      if (target.value) target.value = '';
      else target.blur();
      target.dispatchEvent(new Event('input'));
      if (!target.value) currentList().focus();
      e.preventDefault();
    } else if (e.key === 'ArrowDown' && target.type === 'search') {
      e.preventDefault();
      currentList().focus();
    }
    return;
  }
  switch (e.key) {
    case '/':
      e.preventDefault();
      $(state.route.view === 'messages' ? 'message-filter' : 'session-filter').focus();
      break;
    case 'j':
      e.preventDefault();
      currentList().move(1);
      break;
    case 'k':
      e.preventDefault();
      currentList().move(-1);
      break;
    case 'Escape':
      if (goBack()) e.preventDefault();
      break;
    case 'm':
      go('#/messages');
      break;
    case 's':
      go('#/sessions');
      break;
    case '?':
      $('shortcuts-dialog').showModal();
      break;
    default:
  }
}

// ---------------------------------------------------------------- start

function debounce(fn, ms) {
  let t;
  return (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
}

function wire() {
  $('messages-list').append(messageList.el);
  $('sessions-list').append(sessionList.el);
  renderMessageList();
  renderSessionList();

  const reloadFiltered = debounce(() => loadMessages(), 200);
  $('message-filter').addEventListener('input', (e) => {
    const next = parseFilter(e.target.value);
    const serverChanged = JSON.stringify(next.params) !== JSON.stringify(state.filter.params);
    state.filter = next;
    if (serverChanged) reloadFiltered();
    else renderMessageList();
  });
  $('session-filter').addEventListener('input', (e) => {
    state.sessionFilter = e.target.value;
    renderSessionList();
  });
  $('load-more').addEventListener('click', () => loadMessages({ append: true }));
  $('delete-all').addEventListener('click', deleteAll);
  $('reset').addEventListener('click', reset);
  $('ca-copy').addEventListener('click', () => copyText(state.info?.ca_file || ''));
  $('shortcuts').addEventListener('click', () => $('shortcuts-dialog').showModal());
  $('token-dialog').addEventListener('cancel', (e) => e.preventDefault());  // the API needs it
  document.addEventListener('keydown', onKey);
  document.addEventListener('visibilitychange', () => {
    const r = state.route;
    if (document.visibilityState === 'visible' && r.view === 'sessions' && r.id !== null && state.detail?.data?.open) refreshSession(r.id);
  });
  window.addEventListener('hashchange', route);
  setTokenPrompt(askToken);
}

async function start() {
  wire();
  route();
  await loadInfo();
  if (state.route.id === null) route();  // the welcome pane shows the listeners
  await Promise.all([loadMessages(), loadSessions()]);
  if (state.route.view === 'sessions' && state.route.id !== null) {
    state.detail = null;  // draw it again: the subjects of its messages are known now
    refreshSession(state.route.id);
  }
  subscribe(handlers, setLive);
  document.body.dataset.ready = 'true';
}

start();
