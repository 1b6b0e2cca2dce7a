// Sessions: one list item per connection, and the session view, whose transcript shows where
// plaintext ends and TLS begins: plaintext lines on an amber rail with an open lock, a divider
// where the TLS handshake completed, TLS lines on a green rail with a closed lock. With implicit
// TLS the divider is the first row and every line is green.
import { h, icon, tlsBadge, TLS_MODES, timeEl, fullTime, duration, bytes, facts, plural } from './lib.js';

export function matchesSessionFilter(s, text) {
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  if (!words.length) return true;
  const hay = [`#${s.id}`, s.listener, s.protocol, s.port, s.peer, s.tls_mode, TLS_MODES[s.tls_mode]?.badge,
    ...(s.auth || []).map((a) => a.user), s.open ? 'open' : 'closed',
    (s.diagnoses || []).length ? 'diagnosis' : '', (s.behaviours || []).length ? 'behaviour' : ''].join(' ').toLowerCase();
  return words.every((w) => hay.includes(w));
}

function authSummary(s) {
  const attempts = s.auth || [];
  const ok = attempts.find((a) => a.success);
  if (ok) return h('span', { class: 'with-icon' }, icon('user'), ok.user);
  if (attempts.length) return h('span', { class: 'with-icon bad' }, icon('x'), `${plural(attempts.length, 'failed login')}`);
  return null;
}

export function sessionItem(s) {
  const diag = (s.diagnoses || []).length;
  const acted = (s.behaviours || []).length;
  const msgs = (s.messages || []).length;
  return h('a', { href: `#/sessions/${s.id}`, class: `item session-item${diag ? ' has-diag' : ''}`, 'data-id': s.id },
    h('div', { class: 'item-row' },
      h('span', { class: 'item-from' }, h('span', { class: 'session-id' }, `#${s.id}`), ` ${s.listener} `,
        h('span', { class: 'muted' }, `:${s.port}`)),
      h('span', { class: 'item-time' }, timeEl(s.started_at))),
    h('div', { class: 'item-row item-meta' },
      tlsBadge(s.tls_mode, s.tls?.version),
      h('span', { class: 'proto' }, (s.protocol || '').toUpperCase()),
      h('span', { class: 'peer' }, s.peer)),
    h('div', { class: 'item-row item-flags' },
      s.open ? h('span', { class: 'flag flag-open' }, h('span', { class: 'pulse', 'aria-hidden': 'true' }), 'open') : null,
      authSummary(s),
      msgs ? h('span', { class: 'with-icon' }, icon('mail'), plural(msgs, 'message')) : null,
      diag ? h('span', { class: 'flag flag-diag' }, icon('alert'), plural(diag, 'diagnosis', 'diagnoses')) : null,
      acted ? h('span', { class: 'flag flag-behaviour' }, plural(acted, 'behaviour')) : null,
      !s.open && !msgs && !diag && !acted && !(s.auth || []).length ? h('span', { class: 'muted' }, s.close_reason || 'closed') : null));
}

// "TLS established: TLSv1.3 TLS_AES_256_GCM_SHA384 (after STARTTLS)" -> parts, or null.
function parseTlsNote(text) {
  const m = /^TLS established:\s*(\S+)\s+(\S+)\s*(?:\(([^)]*)\))?/.exec(text || '');
  return m ? { version: m[1], cipher: m[2], how: m[3] || '' } : null;
}

const isTlsNote = (line) => line.direction === 'note' && /^TLS established/i.test(line.text || '');

function offset(line, startMs) {
  const t = Date.parse(line.at);
  if (!Number.isFinite(t) || !Number.isFinite(startMs)) return '';
  const ms = Math.max(0, t - startMs);
  return ms < 1000 ? `+${ms} ms` : `+${(ms / 1000).toFixed(2)} s`;
}

// The text of a line, with masked secrets marked.
function lineText(text) {
  const span = h('span', { class: 'text' });
  const parts = String(text ?? '').split('****');
  parts.forEach((part, i) => {
    if (i > 0) span.append(h('span', { class: 'masked', title: 'Secret masked by sevenport' }, '****'));
    if (part) span.append(part);
  });
  return span;
}

// A short margin note on the lines that matter for learning STARTTLS.
function hintFor(line, prev, s) {
  const text = (line.text || '').trim();
  const upper = text.toUpperCase();
  if (line.direction === 'client') {
    if (/^(\S+\s+)?(STARTTLS|STLS)$/.test(upper)) return 'asks to switch to TLS';
    if (/^(\S+\s+)?(AUTH|AUTHENTICATE|LOGIN)\b/.test(upper) || /^PASS\b/.test(upper) || text === '****') {
      return line.tls ? 'credentials, inside TLS' : 'credentials in plaintext';
    }
    if (line.tls && s.tls_mode === 'starttls' && /^(EHLO|HELO|LHLO)\b/.test(upper) && prev && isTlsNote(prev)) {
      return 'greets again, now inside TLS';
    }
  }
  if (line.direction === 'server' && prev && prev.direction === 'client'
      && /^(\S+\s+)?(STARTTLS|STLS)$/.test((prev.text || '').trim().toUpperCase())) {
    return /^(220|\+OK|\S+ OK)/.test(text) ? 'go ahead: the TLS handshake follows' : 'refused';
  }
  return '';
}

function lineRow(line, prev, s, startMs) {
  const dir = line.direction;
  const who = dir === 'client' ? 'C:' : dir === 'server' ? 'S:' : '';
  const status = dir === 'server' ? /^[45]\d\d[ -]|^-ERR|^\S+ (NO|BAD)\b/.test(line.text || '') : false;
  const hint = hintFor(line, prev, s);
  return h('li', {
    class: `line dir-${dir}${line.tls ? ' on-tls' : ' on-plain'}${status ? ' is-error' : ''}${hint ? ' has-hint' : ''}`,
    'data-tls': String(Boolean(line.tls)), 'data-dir': dir,
  },
  h('span', { class: 'lock' }, icon(line.tls ? 'lock' : 'unlock', line.tls ? 'inside TLS' : 'plaintext')),
  h('span', { class: 'when', title: fullTime(line.at) }, offset(line, startMs)),
  h('span', { class: 'who', 'aria-label': dir === 'client' ? 'client' : dir === 'server' ? 'server' : 'note' }, who),
  dir === 'note' || /^\[.*\]$/.test(line.text || '') ? h('span', { class: 'text note-text' }, line.text) : lineText(line.text),
  hint ? h('span', { class: 'hint' }, hint) : null);
}

function boundaryRow(note, s, startMs) {
  const parsed = parseTlsNote(note?.text) || {};
  const how = parsed.how || (s.tls_mode === 'implicit' ? 'implicit TLS' : 'after STARTTLS');
  const version = parsed.version || s.tls?.version || 'TLS';
  const cipher = parsed.cipher || s.tls?.cipher;
  const implicit = /implicit/i.test(how);
  return h('li', { class: `boundary${implicit ? ' boundary-implicit' : ''}`, 'data-boundary': implicit ? 'implicit' : 'starttls',
                   'data-tls': 'true', 'aria-label': note?.text || `TLS established: ${version} (${how})` },
    h('span', { class: 'boundary-lock' }, icon('lock')),
    h('span', { class: 'boundary-body' },
      h('strong', null, 'TLS established'),
      h('span', { class: 'chip chip-strong' }, version),
      cipher ? h('span', { class: 'chip' }, cipher) : null,
      h('span', { class: 'chip chip-how' }, `(${how})`),
      s.tls?.sni ? h('span', { class: 'chip' }, `SNI ${s.tls.sni}`) : null,
      note ? h('span', { class: 'when' }, offset(note, startMs)) : null),
    h('span', { class: 'boundary-caption' }, implicit
      ? 'Encrypted from the first byte: nothing on this connection was ever readable on the wire.'
      : 'Everything above travelled in plaintext; everything below is encrypted.'));
}

export function transcriptView(s) {
  const lines = s.transcript || [];
  const startMs = Date.parse(s.started_at);
  const ol = h('ol', { class: 'transcript', 'aria-label': `Transcript of session ${s.id}` });
  let prev = null;
  let segment = null;  // 'plain' | 'tls'
  for (const line of lines) {
    if (isTlsNote(line)) {
      ol.append(boundaryRow(line, s, startMs));
      segment = 'tls';
      prev = line;
      continue;
    }
    if (line.tls && segment !== 'tls') {
      ol.append(boundaryRow(null, s, startMs));  // no note line (truncated): still draw the divider
      segment = 'tls';
    }
    if (!line.tls && segment === null) {
      ol.append(h('li', { class: 'segment-label seg-plain' }, icon('unlock'),
        h('strong', null, 'Plaintext'), ' — readable by anyone on the network path'));
      segment = 'plain';
    }
    ol.append(lineRow(line, prev, s, startMs));
    prev = line;
  }
  if (segment === 'plain' && !s.open) {
    ol.append(h('li', { class: 'segment-label seg-plain seg-end' }, icon('unlock'),
      'The session ended without TLS.'));
  }
  if (s.transcript_truncated) ol.append(h('li', { class: 'segment-label seg-note' }, 'Later lines were not kept (transcript limit).'));
  if (!lines.length) ol.append(h('li', { class: 'segment-label seg-note' }, 'Nothing was said yet.'));
  return ol;
}

// A bar that shows the share of the conversation in plaintext and inside TLS.
function glanceBar(s) {
  const lines = (s.transcript || []).filter((l) => l.direction !== 'note');
  const plain = lines.filter((l) => !l.tls).length;
  const tls = lines.length - plain;
  const bar = h('div', { class: 'glance-bar', 'aria-hidden': 'true' });
  if (plain) bar.append(h('span', { class: 'glance-plain', style: `flex: ${plain}` }));
  if (plain && tls) bar.append(h('span', { class: 'glance-switch' }));
  if (tls) bar.append(h('span', { class: 'glance-tls', style: `flex: ${tls}` }));
  let words;
  if (s.tls_mode === 'implicit') words = `Implicit TLS: all ${plural(tls, 'line')} encrypted from the first byte.`;
  else if (s.tls_mode === 'starttls') words = `STARTTLS: ${plural(plain, 'line')} in plaintext, then ${plural(tls, 'line')} inside ${s.tls?.version || 'TLS'}.`;
  else words = `No TLS: all ${plural(plain, 'line')} in plaintext.`;
  return h('div', { class: 'glance' }, bar, h('p', { class: 'glance-words' }, words));
}

function authTable(s) {
  const attempts = s.auth || [];
  if (!attempts.length) return null;
  return h('section', { class: 'card', 'aria-labelledby': 'auth-h' },
    h('h3', { id: 'auth-h' }, plural(attempts.length, 'login attempt')),
    h('table', { class: 'auth-table' },
      h('thead', null, h('tr', null, ['Time', 'Mechanism', 'User', 'Result', 'Channel'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', null, attempts.map((a) => h('tr', { class: a.success ? 'ok' : 'bad', 'data-auth': a.success ? 'ok' : 'failed' },
        h('td', null, timeEl(a.at)),
        h('td', null, h('code', null, a.mechanism || '')),
        h('td', null, a.user || '—'),
        h('td', null, a.success ? h('span', { class: 'with-icon good' }, icon('check'), 'accepted')
                                : h('span', { class: 'with-icon bad' }, icon('x'), a.reason ? `refused: ${a.reason}` : 'refused')),
        h('td', null, a.over_tls ? h('span', { class: 'with-icon good' }, icon('lock'), 'inside TLS')
                                 : h('span', { class: 'with-icon warn' }, icon('unlock'), 'plaintext')))))));
}

export function sessionSentence(s) {
  const where = `${s.listener} (port ${s.port}, ${String(s.protocol || '').toUpperCase()})`;
  const security = { none: 'without TLS', starttls: 'with STARTTLS', implicit: 'with implicit TLS' }[s.security] || s.security;
  let how;
  if (s.tls_mode === 'starttls') how = `The client connected in plaintext and upgraded with STARTTLS to ${s.tls?.version || 'TLS'}.`;
  else if (s.tls_mode === 'implicit') how = `The connection was TLS (${s.tls?.version || '?'}) from the first byte.`;
  else how = s.security === 'none' ? 'Nothing was encrypted.' : 'TLS never started: everything was sent in plaintext.';
  return `A connection from ${s.peer} to ${where}, a listener set up ${security}. ${how}`;
}

// A diagnosis explains a client's mistake; its "Fix:" part gets a line of its own.
function diagnosis(text) {
  const [what, fix] = String(text).split(/\s*\bFix:\s*/, 2);
  return h('div', { class: 'diagnosis', role: 'note', 'data-diagnosis': '' }, icon('alert'),
    h('div', null, h('strong', null, 'Diagnosis'), h('p', null, what),
      fix ? h('p', { class: 'fix' }, h('b', null, 'Fix: '), fix) : null));
}

// A behaviour the listener or the account was set to (docs/BEHAVIOURS.md): deliberate, not a
// client's mistake, so it is shown apart from diagnoses.
function behaviour(text) {
  return h('div', { class: 'behaviour', role: 'note', 'data-behaviour': '' },
    h('div', null, h('strong', null, 'Deliberate behaviour'), h('p', null, text)));
}

// ctx: {subjectOf(id) -> string|undefined, onRefresh()}
export function sessionView(s, ctx) {
  const diag = s.diagnoses || [];
  const errors = s.errors || [];
  const ended = s.ended_at ? Date.parse(s.ended_at) : NaN;
  return h('article', { class: 'detail session-view', 'aria-labelledby': 'detail-title', 'data-session': s.id },
    h('div', { class: 'detail-bar' },
      h('a', { href: '#/sessions', class: 'btn btn-ghost back-btn', 'aria-label': 'Back to the sessions' }, icon('back'), 'Sessions'),
      h('span', { class: 'spacer' }),
      s.open ? h('button', { type: 'button', class: 'btn btn-ghost', on: { click: ctx.onRefresh } }, icon('refresh'), 'Refresh') : null),
    h('header', { class: 'detail-head' },
      h('h2', { id: 'detail-title', tabindex: -1 }, `Session #${s.id}`,
        h('span', { class: 'title-sub' }, ` ${s.listener} :${s.port}`)),
      h('div', { class: 'badges' }, tlsBadge(s.tls_mode, s.tls?.version),
        s.open ? h('span', { class: 'flag flag-open' }, h('span', { class: 'pulse', 'aria-hidden': 'true' }), 'open')
               : h('span', { class: 'flag' }, 'closed')),
      h('p', { class: 'sentence' }, sessionSentence(s))),
    diag.length ? h('section', { class: 'diagnoses', 'aria-label': 'Diagnoses' }, diag.map(diagnosis)) : null,
    (s.behaviours || []).length
      ? h('section', { class: 'behaviours', 'aria-label': 'Deliberate behaviours' }, s.behaviours.map(behaviour)) : null,
    glanceBar(s),
    keyFacts(s, ctx.subjectOf),
    h('section', { class: 'transcript-block', 'aria-labelledby': 'transcript-h' },
      h('div', { class: 'transcript-head' },
        h('h3', { id: 'transcript-h' }, 'Transcript'),
        h('span', { class: 'legend' },
          h('span', { class: 'legend-item lg-plain' }, icon('unlock'), 'plaintext'),
          h('span', { class: 'legend-item lg-tls' }, icon('lock'), 'inside TLS'),
          h('span', { class: 'legend-item' }, h('b', { class: 'who-c' }, 'C:'), ' client'),
          h('span', { class: 'legend-item' }, h('b', { class: 'who-s' }, 'S:'), ' server'))),
      transcriptView(s)),
    h('div', { class: 'session-grid' },
      h('section', { class: 'card', 'aria-labelledby': 'conn-h' },
        h('h3', { id: 'conn-h' }, 'Connection'),
        facts([
          ['Listener', `${s.listener} · ${String(s.protocol || '').toUpperCase()} · port ${s.port}`],
          ['Set up for', TLS_MODES[s.security]?.words || s.security],
          ['Peer', h('code', null, s.peer || '')],
          ['TLS', s.tls ? [s.tls.version, s.tls.cipher].filter(Boolean).join(' · ') : 'none'],
          ['SNI', s.tls?.sni],
          ['Started', timeEl(s.started_at, fullTime(s.started_at))],
          ['Ended', s.ended_at ? `${fullTime(s.ended_at)} (${duration(ended - Date.parse(s.started_at))})` : 'still open'],
          ['Closed', s.close_reason],
          ['Bytes', `${bytes(s.bytes_in)} in · ${bytes(s.bytes_out)} out`],
        ])),
      h('div', { class: 'stack' }, authTable(s),
        errors.length ? h('section', { class: 'card errors', 'aria-labelledby': 'errors-h' },
          h('h3', { id: 'errors-h' }, plural(errors.length, 'protocol error')),
          h('ul', null, errors.map((e) => h('li', null, e)))) : null)));
}

// The few facts worth seeing before the transcript: login, delivered messages, size and time.
function keyFacts(s, subjectOf) {
  const attempts = s.auth || [];
  const ok = attempts.find((a) => a.success);
  const failed = attempts.filter((a) => !a.success).length;
  let login;
  if (ok) {
    login = h('span', { class: 'with-icon good' }, icon('check'), ok.user,
      h('span', { class: 'muted' }, ` ${ok.mechanism}, ${ok.over_tls ? 'inside TLS' : 'in plaintext'}`));
  } else if (failed) {
    login = h('span', { class: 'with-icon bad' }, icon('x'), `${plural(failed, 'attempt')} refused`);
  } else {
    login = h('span', { class: 'muted' }, 'none');
  }
  const ids = s.messages || [];
  const delivered = ids.length
    ? h('span', { class: 'delivered' }, ids.map((id) => h('a', { href: `#/messages/${id}`, class: 'link-strong', 'data-link': 'message' },
        icon('mail'), `#${id}`, subjectOf(id) ? h('span', { class: 'link-sub' }, subjectOf(id)) : null)))
    : h('span', { class: 'muted' }, 'none');
  const ended = s.ended_at ? Date.parse(s.ended_at) : NaN;
  return h('dl', { class: 'key-facts' },
    h('div', null, h('dt', null, 'Login'), h('dd', null, login)),
    h('div', null, h('dt', null, 'Delivered'), h('dd', null, delivered)),
    h('div', null, h('dt', null, s.open ? 'Open for' : 'Lasted'),
      h('dd', null, s.open ? h('span', { class: 'flag flag-open' }, h('span', { class: 'pulse', 'aria-hidden': 'true' }), 'still open')
                           : duration(ended - Date.parse(s.started_at)))),
    h('div', null, h('dt', null, 'Traffic'), h('dd', null, `${bytes(s.bytes_in)} in · ${bytes(s.bytes_out)} out`)));
}

// What the session pane shows when no session is open: how to read a transcript.
export function sessionsWelcome() {
  return h('div', { class: 'welcome' },
    h('h2', { id: 'detail-title', tabindex: -1 }, 'Sessions'),
    h('p', { class: 'lead' }, 'Every connection to sevenport is a session. Open one to see what client and server said, and where encryption began.'),
    h('div', { class: 'explain' },
      h('div', { class: 'explain-card' },
        h('div', { class: 'mini-rail' }, h('span', { class: 'r-plain' }), h('span', { class: 'r-switch' }), h('span', { class: 'r-tls' })),
        h('h3', null, 'STARTTLS'), h('p', null, 'Ports 25, 587, 143, 110. The client connects in plaintext, sends STARTTLS (STLS in POP3), and both sides switch to TLS. Lines before the switch are amber.')),
      h('div', { class: 'explain-card' },
        h('div', { class: 'mini-rail' }, h('span', { class: 'r-tls' })),
        h('h3', null, 'Implicit TLS'), h('p', null, 'Ports 465, 993, 995. TLS from the first byte; the mail protocol starts inside it. Every line is green.')),
      h('div', { class: 'explain-card' },
        h('div', { class: 'mini-rail' }, h('span', { class: 'r-diag' })),
        h('h3', null, 'Diagnoses'), h('p', null, 'A client set to the wrong security for a port gets a diagnosis in plain words, with the fix.'))));
}
