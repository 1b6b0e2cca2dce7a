// End-to-end test of the web UI in a real browser: starts the real sevenport binary on ephemeral
// ports, opens its UI in Debian's headless Chromium (driven by playwright-core, which never
// downloads a browser), sends a message over the submission port with STARTTLS and AUTH PLAIN
// (Node's net and tls modules), and checks what a person would see: the message appears in the
// mailbox without a reload, its view shows how it arrived, and its session's transcript shows
// where plaintext ends and TLS begins.
//
//   node tests/browser/ui_test.mjs
//
// Environment: SEVENPORT_BIN (default build/sevenport), SEVENPORT_SCREENSHOT_DIR (default
// tests/browser/screenshots next to the binary), CHROMIUM (default /usr/bin/chromium).
// Every wait is bounded, and so is the whole run; the server and the browser are stopped in
// `finally`. Prints one line per check and ends with "N passed, M failed"; exits 1 on a failure.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.resolve(process.env.SEVENPORT_BIN || path.join(ROOT, 'build', 'sevenport'));
const SHOTS = path.resolve(process.env.SEVENPORT_SCREENSHOT_DIR
  || path.join(path.dirname(BIN), 'tests', 'browser', 'screenshots'));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

const OVERALL_MS = 150_000;  // the whole run
const STEP_MS = 15_000;      // one wait in the page
const REPLY_MS = 10_000;     // one SMTP reply
const START_MS = 30_000;     // the server's "Ready."

const USER = 'alice@example.test';
const PASSWORD = 'alice-secret';
const RECIPIENT = 'bob@example.test';
const SUBJECT = 'Hello from the browser test';
const BODY_LINE = 'Sent over port 587: plaintext, then STARTTLS, then AUTH PLAIN inside TLS.';

// ---------------------------------------------------------------- the server

function startServer(tmp) {
  const readyFile = path.join(tmp, 'ready.json');
  const args = ['--ephemeral', '--ready-file', readyFile, '--state-dir', path.join(tmp, 'state'),
                '--user', `${USER}:${PASSWORD}`];
  const proc = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const server = { proc, stdout: [], stderr: [], exited: null, readyFile };
  const collect = (stream, sink) => {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop();
      sink.push(...lines);
      server.onLine?.();
    });
  };
  collect(proc.stdout, server.stdout);
  collect(proc.stderr, server.stderr);
  server.exitPromise = new Promise((resolve) => {
    proc.on('exit', (code, signal) => {
      server.exited = { code, signal };
      server.onLine?.();
      resolve(server.exited);
    });
    proc.on('error', (e) => {
      server.exited = { code: null, signal: null, error: e };
      server.onLine?.();
      resolve(server.exited);
    });
  });
  return server;
}

function waitForReady(server) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`no "Ready." from sevenport within ${START_MS / 1000} s`)), START_MS);
    const done = (err) => {
      clearTimeout(timer);
      server.onLine = null;
      if (err) reject(err);
      else resolve(JSON.parse(fs.readFileSync(server.readyFile, 'utf8')));
    };
    server.onLine = () => {
      if (server.stdout.some((l) => l.startsWith('Ready.'))) done();
      else if (server.exited) done(new Error(`sevenport exited before it was ready (${JSON.stringify(server.exited)})`));
    };
    server.onLine();
  });
}

async function stopServer(server) {
  if (!server || server.exited) return server?.exited;
  server.proc.kill('SIGTERM');
  const exited = await Promise.race([server.exitPromise, sleep(15_000).then(() => null)]);
  if (exited) return exited;
  server.proc.kill('SIGKILL');
  await Promise.race([server.exitPromise, sleep(5_000)]);
  return { code: null, signal: 'SIGKILL (did not stop on SIGTERM)' };
}

// ---------------------------------------------------------------- a small SMTP client

// Reads CRLF lines from a socket; reply() returns one whole (possibly multi-line) SMTP reply.
function lineChannel(socket) {
  let buffer = '';
  const lines = [];
  let failure = null;
  let wake = null;
  const notify = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  const onData = (chunk) => {
    buffer += chunk.toString('latin1');
    let i;
    while ((i = buffer.indexOf('\r\n')) >= 0) {
      lines.push(buffer.slice(0, i));
      buffer = buffer.slice(i + 2);
    }
    notify();
  };
  const onEnd = () => { failure = failure || new Error('the server closed the connection'); notify(); };
  const onError = (e) => { failure = e; notify(); };
  socket.on('data', onData);
  socket.on('end', onEnd);
  socket.on('error', onError);

  async function line(ms) {
    const deadline = Date.now() + ms;
    while (lines.length === 0) {
      if (failure) throw failure;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no reply within ${ms / 1000} s`);
      await new Promise((resolve) => {
        const t = setTimeout(resolve, left);
        wake = () => { clearTimeout(t); resolve(); };
      });
    }
    return lines.shift();
  }

  return {
    async reply(expected, ms = REPLY_MS) {
      const got = [];
      for (;;) {
        const l = await line(ms);
        got.push(l);
        if (/^\d{3}(?: |$)/.test(l)) break;
        if (!/^\d{3}-/.test(l)) throw new Error(`not an SMTP reply: ${JSON.stringify(l)}`);
      }
      const code = Number(got[got.length - 1].slice(0, 3));
      if (expected && code !== expected) throw new Error(`expected ${expected}, got: ${got.join(' | ')}`);
      return { code, lines: got };
    },
    send(text) {
      socket.write(`${text}\r\n`);
    },
    // Stops reading: the socket is handed to TLS.
    detach() {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onError);
      if (buffer || lines.length) throw new Error('plaintext bytes after the STARTTLS reply');
    },
  };
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000} s`)), ms); }),
  ]);
}

// Sends one message over the submission port: plain connect, EHLO, STARTTLS, TLS handshake
// (verified against sevenport's CA), EHLO again, AUTH PLAIN, MAIL/RCPT/DATA, QUIT.
// Returns the id from "250 ... queued as N" (or null).
async function sendOverStarttls({ port, caFile }) {
  const plain = net.connect({ host: '127.0.0.1', port });
  let secure = null;
  try {
    await withTimeout(new Promise((resolve, reject) => {
      plain.once('connect', resolve);
      plain.once('error', reject);
    }), REPLY_MS, 'TCP connect');
    let smtp = lineChannel(plain);
    await smtp.reply(220);
    smtp.send('EHLO browser-test.example');
    const ehlo = await smtp.reply(250);
    if (!ehlo.lines.some((l) => /STARTTLS/i.test(l))) throw new Error('EHLO does not offer STARTTLS');
    smtp.send('STARTTLS');
    await smtp.reply(220);
    smtp.detach();

    secure = tls.connect({ socket: plain, ca: fs.readFileSync(caFile), servername: 'localhost' });
    await withTimeout(new Promise((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    }), REPLY_MS, 'TLS handshake');
    if (!secure.authorized) throw new Error(`certificate not trusted: ${secure.authorizationError}`);

    smtp = lineChannel(secure);
    smtp.send('EHLO browser-test.example');
    const ehlo2 = await smtp.reply(250);
    if (!ehlo2.lines.some((l) => /AUTH\b.*PLAIN/i.test(l))) throw new Error('EHLO inside TLS does not offer AUTH PLAIN');
    smtp.send(`AUTH PLAIN ${Buffer.from(`\0${USER}\0${PASSWORD}`).toString('base64')}`);
    await smtp.reply(235);
    smtp.send(`MAIL FROM:<${USER}>`);
    await smtp.reply(250);
    smtp.send(`RCPT TO:<${RECIPIENT}>`);
    await smtp.reply(250);
    smtp.send('DATA');
    await smtp.reply(354);
    const message = [
      `From: Alice <${USER}>`,
      `To: Bob <${RECIPIENT}>`,
      `Subject: ${SUBJECT}`,
      `Date: ${new Date().toUTCString().replace('GMT', '+0000')}`,
      `Message-ID: <${Date.now()}.ui-test@browser-test.example>`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'Hello Bob,',
      '',
      BODY_LINE,
      '',
    ];
    for (const l of message) smtp.send(l.startsWith('.') ? `.${l}` : l);
    smtp.send('.');
    const queued = await smtp.reply(250);
    const id = /queued as (\d+)/i.exec(queued.lines.join(' '));
    smtp.send('QUIT');
    await smtp.reply(221);
    return id ? Number(id[1]) : null;
  } finally {
    (secure || plain).destroy();
  }
}

// ---------------------------------------------------------------- checks

const results = [];
let failed = false;

async function check(name, fn) {
  if (failed) {
    results.push({ name, status: 'skipped' });
    console.log(`skip - ${name}`);
    return undefined;
  }
  const started = Date.now();
  try {
    const value = await fn();
    results.push({ name, status: 'passed' });
    console.log(`ok   - ${name} (${Date.now() - started} ms)`);
    return value;
  } catch (e) {
    failed = true;
    results.push({ name, status: 'failed' });
    console.log(`FAIL - ${name}: ${e && e.message ? e.message : e}`);
    return undefined;
  }
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------- the run

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sevenport-ui-test-'));
  const profile = path.join(tmp, 'chromium-profile');
  fs.mkdirSync(SHOTS, { recursive: true });
  let server = null;
  let context = null;
  const pageProblems = [];

  const overall = setTimeout(() => {
    console.log(`FAIL - the whole run took longer than ${OVERALL_MS / 1000} s`);
    server?.proc.kill('SIGKILL');
    process.exit(1);
  }, OVERALL_MS);

  try {
    const ready = await check('sevenport starts on ephemeral ports and writes its ready file', async () => {
      assert(fs.existsSync(BIN), `no binary at ${BIN} (build it, or set SEVENPORT_BIN)`);
      server = startServer(tmp);
      const r = await waitForReady(server);
      assert(Number.isInteger(r.listeners?.http?.port), 'the ready file has no listeners.http.port');
      assert(Number.isInteger(r.listeners?.submission?.port), 'the ready file has no listeners.submission.port');
      assert(r.ca_file && fs.existsSync(r.ca_file), 'the ready file has no ca_file');
      return r;
    });
    const base = ready && `http://127.0.0.1:${ready.listeners.http.port}`;

    const page = await check('the UI opens at / in headless Chromium and connects to the event stream', async () => {
      assert(fs.existsSync(CHROMIUM), `no browser at ${CHROMIUM} (run scripts/setup-browser.sh)`);
      context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
               '--disable-background-networking', '--disable-component-update', '--disable-sync'],
        viewport: { width: 1440, height: 1000 },
        timeout: STEP_MS,
      });
      context.setDefaultTimeout(STEP_MS);
      const p = context.pages()[0] || await context.newPage();
      p.on('pageerror', (e) => pageProblems.push(`script error: ${e.message}`));
      p.on('console', (m) => {
        if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) pageProblems.push(`CSP: ${m.text()}`);
      });
      const response = await p.goto(`${base}/`, { waitUntil: 'load' });
      assert(response && response.ok(), `GET / answered ${response && response.status()}`);
      const csp = response.headers()['content-security-policy'] || '';
      assert(/default-src 'self'/.test(csp), `GET / has no Content-Security-Policy with default-src 'self' (got ${JSON.stringify(csp)})`);
      await p.locator('body[data-ready="true"]').waitFor();
      const port = String(ready.listeners.submission.port);
      await p.locator('[data-listener="submission"]', { hasText: port }).waitFor();
      await p.locator('#ca-file').filter({ hasText: path.basename(ready.ca_file) }).waitFor();
      await p.locator('#live[data-status="live"]').waitFor();
      // A mark that a reload would wipe out.
      await p.evaluate(() => { window.sevenportTestMark = 'still the same page'; });
      return p;
    });

    const messageId = await check('a message goes in over port 587 with STARTTLS and AUTH PLAIN', () =>
      sendOverStarttls({ port: ready.listeners.submission.port, caFile: ready.ca_file }));

    await check('the message appears in the mailbox without a reload', async () => {
      const item = page.locator('#messages-list a', { hasText: SUBJECT });
      await item.waitFor();
      if (messageId !== null) assert(await item.getAttribute('data-id') === String(messageId), 'the list item links another message id');
      assert(await page.evaluate(() => window.sevenportTestMark) === 'still the same page', 'the page was reloaded');
    });

    await check('the message view shows the subject, the body and a STARTTLS arrival badge', async () => {
      await page.locator('#messages-list a', { hasText: SUBJECT }).click();
      await page.locator('#detail [data-field="subject"]', { hasText: SUBJECT }).waitFor();
      assert(/^#\/messages\/\d+$/.test(await page.evaluate(() => location.hash)), 'the URL is not #/messages/<id>');
      await page.locator('#detail [data-field="text"]', { hasText: BODY_LINE }).waitFor();
      const badge = page.locator('#detail .arrival [data-badge="tls-mode"]');
      await badge.waitFor();
      const text = (await badge.textContent()).trim();
      assert(/STARTTLS/.test(text), `the arrival badge says ${JSON.stringify(text)}`);
      assert(await badge.getAttribute('data-mode') === 'starttls', 'the arrival badge is not for starttls');
      await page.locator('#detail .arrival', { hasText: USER }).waitFor();
      const file = path.join(SHOTS, 'message.png');
      await page.screenshot({ path: file });
      console.log(`       screenshot: ${file}`);
    });

    await check('the session view shows plaintext lines, the TLS divider, then TLS lines', async () => {
      await page.locator('#detail a[data-link="session"]').click();
      await page.locator('#detail .transcript [data-boundary]').waitFor();
      assert(/^#\/sessions\/\d+$/.test(await page.evaluate(() => location.hash)), 'the URL is not #/sessions/<id>');
      const rows = await page.locator('#detail .transcript > li[data-tls]').evaluateAll((lis) => lis.map((li) => ({
        tls: li.dataset.tls,
        boundary: li.dataset.boundary ?? null,
        dir: li.dataset.dir ?? null,
        text: (li.querySelector('.text')?.textContent ?? li.textContent).trim(),
      })));
      const at = rows.findIndex((r) => r.boundary !== null);
      assert(at > 0, 'no plaintext rows before the TLS divider');
      assert(rows.filter((r) => r.boundary !== null).length === 1, 'more than one TLS divider');
      assert(rows[at].boundary === 'starttls', `the divider says ${rows[at].boundary}, not starttls`);
      const before = rows.slice(0, at);
      const after = rows.slice(at + 1);
      assert(before.every((r) => r.tls === 'false'), 'a row before the divider is marked as TLS');
      assert(after.length > 0 && after.every((r) => r.tls === 'true'), 'a row after the divider is not marked as TLS');
      assert(before.some((r) => r.dir === 'client' && /^STARTTLS$/i.test(r.text)), 'no client STARTTLS line before the divider');
      assert(before.some((r) => r.dir === 'server' && /^220 /.test(r.text)), 'no 220 greeting or go-ahead before the divider');
      const authLine = after.find((r) => r.dir === 'client' && /^AUTH PLAIN/i.test(r.text));
      assert(authLine, 'no AUTH PLAIN line inside TLS');
      assert(authLine.text.includes('****'), `the AUTH line is not masked: ${JSON.stringify(authLine.text)}`);
      const secret = Buffer.from(`\0${USER}\0${PASSWORD}`).toString('base64');
      const all = await page.locator('#detail').textContent();
      assert(!all.includes(secret) && !all.includes(PASSWORD), 'the password shows on the page');
      await page.locator('#detail .key-facts a[data-link="message"]').first().waitFor();
      const divider = page.locator('#detail .transcript [data-boundary]');
      assert(/after STARTTLS/i.test(await divider.textContent()), 'the divider does not say "after STARTTLS"');
      await divider.scrollIntoViewIfNeeded();
      const file = path.join(SHOTS, 'session.png');
      await page.screenshot({ path: file });
      console.log(`       screenshot: ${file}`);
    });

    await check('Back returns to the message, Esc to the mailbox', async () => {
      await page.goBack();
      await page.locator('#detail [data-field="subject"]', { hasText: SUBJECT }).waitFor();
      await page.locator('#detail [data-field="subject"]').focus();
      await page.keyboard.press('Escape');
      await page.waitForFunction(() => location.hash === '#/messages', null, { timeout: STEP_MS });
      await page.locator('#detail .welcome').waitFor();
    });

    await check('a session with a deliberate behaviour shows it apart from diagnoses', async () => {
      // An account whose mailbox is full (docs/BEHAVIOURS.md): port 25 refuses mail for it.
      const api = `http://127.0.0.1:${ready.listeners.http.port}/api/v1`;
      const added = await fetch(`${api}/users`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ address: 'full@example.test', password: 'full-pw', mailbox_full: 'temporary' }),
      });
      assert(added.status === 201, `adding the user gave ${added.status}`);
      const plain = net.connect({ host: '127.0.0.1', port: ready.listeners.smtp.port });
      try {
        const smtp = lineChannel(plain);
        await smtp.reply(220);
        smtp.send('EHLO browser-test.example');
        await smtp.reply(250);
        smtp.send('MAIL FROM:<someone@browser-test.example>');
        await smtp.reply(250);
        smtp.send('RCPT TO:<full@example.test>');
        const refused = await smtp.reply(452);
        assert(/4\.2\.2/.test(refused.lines.join(' ')), `RCPT got ${refused.lines.join(' | ')}`);
        smtp.send('QUIT');
        await smtp.reply(221);
      } finally {
        plain.destroy();
      }
      const sessions = await (await fetch(`${api}/sessions`)).json();
      const s = sessions.sessions.find((x) => (x.behaviours || []).some((b) => b.includes('mailbox full')));
      assert(s, 'the API lists no session with the mailbox-full behaviour');
      await page.evaluate(() => { location.hash = '#/sessions'; });
      await page.locator(`#sessions-list a[data-id="${s.id}"] .flag-behaviour`, { hasText: '1 behaviour' }).waitFor();
      await page.locator(`#sessions-list a[data-id="${s.id}"]`).click();
      const note = page.locator('#detail [data-behaviour]', { hasText: 'mailbox full' });
      await note.waitFor();
      assert(/452 4\.2\.2/.test(await note.textContent()), 'the behaviour does not name the reply');
      assert(await page.locator('#detail [data-diagnosis]').count() === 0, 'a behaviour is shown as a diagnosis');
      const file = path.join(SHOTS, 'behaviour.png');
      await page.screenshot({ path: file });
      console.log(`       screenshot: ${file}`);
    });

    await check('the page ran without script errors or CSP violations', () => {
      assert(pageProblems.length === 0, pageProblems.join('; '));
    });
  } catch (e) {
    failed = true;
    results.push({ name: 'the test itself', status: 'failed' });
    console.log(`FAIL - the test itself: ${e && e.stack ? e.stack : e}`);
  } finally {
    if (failed && context) {
      const file = path.join(SHOTS, 'failure.png');
      try {
        await withTimeout(context.pages()[0].screenshot({ path: file }), 10_000, 'screenshot');
        console.log(`       screenshot of the failure: ${file}`);
      } catch { /* the browser is gone */ }
    }
    if (context) await withTimeout(context.close(), 15_000, 'closing the browser').catch(() => {});
    const exit = await stopServer(server);
    if (server) {
      const clean = exit && exit.code === 0;
      results.push({ name: 'sevenport stops cleanly on SIGTERM', status: clean ? 'passed' : 'failed' });
      console.log(`${clean ? 'ok  ' : 'FAIL'} - sevenport stops cleanly on SIGTERM${clean ? '' : `: ${JSON.stringify(exit)}`}`);
      if (!clean) failed = true;
      if (failed) {
        console.log('--- sevenport stdout (last 20 lines)');
        console.log(server.stdout.slice(-20).join('\n'));
        console.log('--- sevenport session log (last 40 lines)');
        console.log(server.stderr.slice(-40).join('\n'));
      }
    }
    fs.rmSync(tmp, { recursive: true, force: true });
    clearTimeout(overall);
  }

  const passed = results.filter((r) => r.status === 'passed').length;
  const failures = results.filter((r) => r.status === 'failed').length;
  const skipped = results.filter((r) => r.status === 'skipped').length;
  console.log(`${passed} passed, ${failures} failed${skipped ? `, ${skipped} skipped` : ''}`);
  process.exit(failures || skipped ? 1 : 0);
}

main();
