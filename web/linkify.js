// The one safe path for making links in message text clickable.
// linkify() is pure; appendLinkified() builds DOM nodes with textContent only.

const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;
const TRAILING_PUNCT = /[.,;:!?'"*]+$/;

/**
 * True only for absolute http: or https: URLs that parse.
 * @param {string} href
 */
export function isSafeHref(href) {
  if (typeof href !== 'string' || href.length === 0 || href.length > 2048) return false;
  let url;
  try { url = new URL(href); } catch { return false; }
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname.length > 0;
}

function trimUrl(candidate) {
  let url = candidate;
  for (;;) {
    const before = url;
    url = url.replace(TRAILING_PUNCT, '');
    // drop an unbalanced closing bracket at the end: "(see http://x.org/a)"
    for (const [open, close] of [['(', ')'], ['[', ']'], ['{', '}']]) {
      if (url.endsWith(close)) {
        const opens = url.split(open).length - 1;
        const closes = url.split(close).length - 1;
        if (closes > opens) url = url.slice(0, -1);
      }
    }
    if (url === before) return url;
  }
}

/**
 * Split text into plain-text and link segments. Text is kept verbatim:
 * concatenating every segment's `text` gives back the input.
 * @param {string} text
 * @returns {Array<{type:'text', text:string} | {type:'link', text:string, href:string}>}
 */
export function linkify(text) {
  const s = String(text ?? '');
  const out = [];
  let last = 0;
  URL_RE.lastIndex = 0;
  let m;
  while ((m = URL_RE.exec(s)) !== null) {
    const url = trimUrl(m[0]);
    const start = m.index;
    const end = start + url.length;
    URL_RE.lastIndex = Math.max(end, start + 1);
    if (!isSafeHref(url)) continue;
    if (start > last) out.push({ type: 'text', text: s.slice(last, start) });
    out.push({ type: 'link', text: url, href: new URL(url).href });
    last = end;
  }
  if (last < s.length) out.push({ type: 'text', text: s.slice(last) });
  // merge adjacent text segments (left by skipped unsafe candidates)
  const merged = [];
  for (const seg of out) {
    const prev = merged[merged.length - 1];
    if (prev && prev.type === 'text' && seg.type === 'text') prev.text += seg.text;
    else merged.push({ ...seg });
  }
  return merged;
}

/**
 * Append `text` to `parent`, with http/https URLs as <a> elements
 * (target="_blank", rel="noopener noreferrer"). Everything is set through
 * textContent / createTextNode, never as HTML.
 * @param {Document} doc
 * @param {Element} parent
 * @param {string} text
 */
export function appendLinkified(doc, parent, text) {
  for (const seg of linkify(text)) {
    if (seg.type === 'link' && isSafeHref(seg.href)) {
      const a = doc.createElement('a');
      a.href = seg.href;
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
      a.textContent = seg.text;
      parent.appendChild(a);
    } else {
      parent.appendChild(doc.createTextNode(seg.text));
    }
  }
  return parent;
}
