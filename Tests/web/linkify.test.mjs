import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linkify, isSafeHref, appendLinkified } from '../../web/linkify.js';
import { createDocument } from './fake-dom.mjs';

const joined = (segs) => segs.map((s) => s.text).join('');

test('plain text is one text segment', () => {
  assert.deepEqual(linkify('hello world'), [{ type: 'text', text: 'hello world' }]);
  assert.deepEqual(linkify(''), []);
});

test('http and https URLs are linked, text around them kept', () => {
  const text = 'see https://example.com/a?b=1#c and http://x.org now';
  const segs = linkify(text);
  assert.equal(joined(segs), text);
  assert.deepEqual(segs.filter((s) => s.type === 'link').map((s) => s.href), [
    'https://example.com/a?b=1#c', 'http://x.org/',
  ]);
  assert.equal(segs[0].text, 'see ');
  assert.equal(segs[2].text, ' and ');
  assert.equal(segs[4].text, ' now');
});

test('javascript:, data:, vbscript: and other schemes are never linked', () => {
  for (const t of [
    'javascript:alert(1)', 'JavaScript:alert(1)', 'data:text/html,<script>alert(1)</script>',
    'vbscript:msgbox', 'file:///etc/passwd', 'ftp://example.com', 'java\nscript:alert(1)',
    'xhttps://evil.example', '<a href="javascript:alert(1)">x</a>',
  ]) {
    const segs = linkify(t);
    assert.ok(segs.every((s) => s.type === 'text'), t);
    assert.equal(joined(segs), t);
  }
});

test('a URL embedding javascript: later in the path stays an http link', () => {
  const segs = linkify('http://a.example/javascript:alert(1)');
  assert.equal(segs.length, 1);
  assert.equal(segs[0].type, 'link');
  assert.ok(segs[0].href.startsWith('http://a.example/'));
});

test('trailing punctuation and unbalanced brackets stay outside the link', () => {
  const segs = linkify('go to https://example.com/page. (also https://example.org/x)!');
  const links = segs.filter((s) => s.type === 'link').map((s) => s.text);
  assert.deepEqual(links, ['https://example.com/page', 'https://example.org/x']);
  assert.equal(joined(segs), 'go to https://example.com/page. (also https://example.org/x)!');
  const wiki = linkify('https://en.wikipedia.org/wiki/Foo_(bar)');
  assert.equal(wiki[0].text, 'https://en.wikipedia.org/wiki/Foo_(bar)');
});

test('quotes and angle brackets end a URL', () => {
  const segs = linkify('"https://example.com/"><img src=x onerror=alert(1)>');
  assert.equal(joined(segs), '"https://example.com/"><img src=x onerror=alert(1)>');
  const link = segs.find((s) => s.type === 'link');
  assert.equal(link.text, 'https://example.com/');
});

test('isSafeHref accepts only http/https', () => {
  assert.equal(isSafeHref('https://example.com'), true);
  assert.equal(isSafeHref('http://example.com/x'), true);
  assert.equal(isSafeHref('javascript:alert(1)'), false);
  assert.equal(isSafeHref(' javascript:alert(1)'), false);
  assert.equal(isSafeHref('data:text/html,x'), false);
  assert.equal(isSafeHref('//example.com'), false);
  assert.equal(isSafeHref('/relative'), false);
  assert.equal(isSafeHref(''), false);
  assert.equal(isSafeHref(undefined), false);
});

test('appendLinkified builds anchors with rel/target and text nodes only', () => {
  const doc = createDocument();
  const p = doc.createElement('div');
  appendLinkified(doc, p, '<b>hi</b> https://example.com/x <img src=x onerror=alert(1)>');
  assert.equal(p.textContent, '<b>hi</b> https://example.com/x <img src=x onerror=alert(1)>');
  const anchors = p.querySelectorAll('a');
  assert.equal(anchors.length, 1);
  assert.equal(anchors[0].href, 'https://example.com/x');
  assert.equal(anchors[0].rel, 'noopener noreferrer');
  assert.equal(anchors[0].target, '_blank');
  assert.equal(p.querySelectorAll('b').length, 0);
  assert.equal(p.querySelectorAll('img').length, 0);
});

test('appendLinkified never links javascript:', () => {
  const doc = createDocument();
  const p = doc.createElement('div');
  appendLinkified(doc, p, 'click javascript:alert(document.cookie)');
  assert.equal(p.querySelectorAll('a').length, 0);
  assert.equal(p.textContent, 'click javascript:alert(document.cookie)');
});
