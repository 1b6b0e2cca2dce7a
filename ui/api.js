// The sevenport HTTP API (docs/API.md): JSON requests, the access token, and the event stream.
// When the server answers 401 the page asks for the token once, keeps it in sessionStorage (so it
// lasts as long as the tab) and sends it as "Authorization: Bearer"; EventSource cannot send
// headers, so the event stream and download links carry it as ?access_token=.

const TOKEN_KEY = 'sevenport.token';
let token = sessionStorage.getItem(TOKEN_KEY) || '';
let askForToken = async () => null;
let pendingPrompt = null;
const tokenListeners = new Set();

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// fn(wasRejected) -> Promise<string|null>: shows the token dialog.
export function setTokenPrompt(fn) {
  askForToken = fn;
}

export function onTokenChange(fn) {
  tokenListeners.add(fn);
}

export function hasToken() {
  return token !== '';
}

// A URL that works without headers (links, EventSource).
export function withToken(url) {
  if (!token) return url;
  return `${url}${url.includes('?') ? '&' : '?'}access_token=${encodeURIComponent(token)}`;
}

function obtainToken() {
  if (!pendingPrompt) {
    const rejected = token !== '';
    pendingPrompt = (async () => {
      const value = await askForToken(rejected);
      if (value) {
        token = value;
        sessionStorage.setItem(TOKEN_KEY, value);
        for (const fn of tokenListeners) fn();
      }
    })().finally(() => { pendingPrompt = null; });
  }
  return pendingPrompt;
}

// api('/messages?limit=50') -> parsed JSON; {as: 'text'} for raw sources. Throws ApiError.
export async function api(path, { method = 'GET', body, as = 'json', signal } = {}) {
  for (let attempt = 0; attempt < 5; attempt++) {
    const headers = { Accept: as === 'json' ? 'application/json' : '*/*' };
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res;
    try {
      res = await fetch(`/api/v1${path}`, {
        method, headers, signal, cache: 'no-store',
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      throw new ApiError(0, 'sevenport is not answering (is it still running?)');
    }
    if (res.status === 401) {
      await obtainToken();
      continue;
    }
    if (!res.ok) {
      let message = `${res.status} ${res.statusText}`;
      try {
        const err = await res.json();
        if (err && err.error) message = err.error;
      } catch { /* not JSON */ }
      throw new ApiError(res.status, message);
    }
    return as === 'text' ? res.text() : res.json();
  }
  throw new ApiError(401, 'the access token was not accepted');
}

// Subscribes to /api/v1/events. handlers: {message, session_opened, session_closed, tls, auth}
// each get the parsed data; onStatus('live' | 'reconnecting' | 'offline', {resumed}) tells the
// page how the stream is doing; after a drop the page reloads its lists (resumed = true).
export function subscribe(handlers, onStatus) {
  let source = null;
  let delay = 1000;
  let dropped = false;
  let timer = null;

  const open = () => {
    clearTimeout(timer);
    if (source) source.close();
    source = new EventSource(withToken('/api/v1/events'));
    source.addEventListener('open', () => {
      delay = 1000;
      onStatus('live', { resumed: dropped });
      dropped = false;
    });
    for (const name of ['message', 'session_opened', 'session_closed', 'tls', 'auth']) {
      source.addEventListener(name, (event) => {
        let data;
        try {
          data = JSON.parse(event.data);
        } catch {
          return;
        }
        handlers[name]?.(data);
      });
    }
    source.addEventListener('error', () => {
      dropped = true;
      if (source.readyState === EventSource.CONNECTING) {
        onStatus('reconnecting', {});
        return;
      }
      // The server refused the stream (401, or it is gone): find out through a plain request,
      // which asks for the token if that is the reason, then try again, less often each time.
      onStatus('offline', {});
      source.close();
      timer = setTimeout(async () => {
        try {
          await api('/info');
        } catch { /* still down */ }
        delay = Math.min(delay * 2, 15000);
        open();
      }, delay);
    });
  };

  onTokenChange(open);
  open();
}
