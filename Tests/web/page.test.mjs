// Static checks of web/: CSP-compatible markup and the ids tests rely on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';

const webDir = new URL('../../web/', import.meta.url);
const html = readFileSync(new URL('index.html', webDir), 'utf8');
const jsFiles = readdirSync(webDir).filter((f) => f.endsWith('.js'));

test('no inline script, handler or style in index.html', () => {
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/i, 'inline <script>');
  assert.doesNotMatch(html, /\son[a-z]+\s*=/i, 'inline event handler');
  assert.doesNotMatch(html, /\sstyle\s*=/i, 'style attribute');
  assert.doesNotMatch(html, /<style\b/i, '<style> element');
  assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//i, 'external asset');
  // relative, so the page works under a proxy's path prefix (/chat/static/app.js)
  assert.match(html, /<script type="module" src="static\/app\.js"><\/script>/);
  assert.match(html, /<link rel="stylesheet" href="static\/style\.css">/);
  assert.doesNotMatch(html, /(src|href)="\//i, 'an absolute path breaks under a prefix');
  assert.match(html, /<meta name="confab-ws-path" content="\/ws">/);
  assert.match(html, /<title>Confab<\/title>/);
});

test('the ids the browser tests use exist once', () => {
  for (const id of ['status', 'me', 'rooms', 'users', 'user-count', 'messages', 'input', 'send', 'error',
    'join-form', 'join-room', 'new-messages', 'sidebar-toggle', 'sidebar', 'server-name', 'counter',
    'rename-form', 'rename-input', 'disconnect', 'retry', 'directory', 'user-search', 'user-search-input',
    'user-search-result', 'users-recent', 'recent-heading', 'members-heading', 'users-more']) {
    const n = html.split(`id="${id}"`).length - 1;
    assert.equal(n, 1, `#${id}`);
  }
  assert.match(html, /id="error" role="alert"/);
  assert.match(html, /<button id="send" type="submit"/);
  // status and retry share one box, which the phone layout moves under the header
  assert.match(html, /<div class="conn">\s*<span id="status"[^>]*>[^<]*<\/span>\s*<button id="retry"/);
});

test('JS never renders HTML strings or uses eval', () => {
  for (const f of jsFiles) {
    const src = readFileSync(new URL(f, webDir), 'utf8');
    assert.doesNotMatch(src, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function\(|\.style\./, f);
  }
});

test('pure modules touch no browser globals at import time', async () => {
  for (const f of jsFiles.filter((x) => x !== 'app.js')) {
    await import(new URL(f, webDir).href); // would throw ReferenceError on window/document use
  }
});
