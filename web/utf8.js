// UTF-8 byte counting for the message length counter (pure, no DOM).

/**
 * Number of bytes `text` takes when encoded as UTF-8, computed from UTF-16
 * code units. A lone surrogate counts as U+FFFD (3 bytes), as TextEncoder does.
 * @param {string} text
 * @returns {number}
 */
export function utf8Length(text) {
  let bytes = 0;
  const s = String(text ?? '');
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      const next = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (next >= 0xdc00 && next <= 0xdfff) { bytes += 4; i++; } else bytes += 3;
    } else bytes += 3; // BMP above U+07FF, or a lone low surrogate (U+FFFD)
  }
  return bytes;
}

/**
 * What the character counter shows for `text` against `max` bytes.
 * It appears from `threshold` (a fraction of max) on, and is `over` past max.
 * @param {string} text
 * @param {number|undefined} max
 * @param {number} [threshold]
 * @returns {{bytes:number, max:number, visible:boolean, over:boolean, remaining:number, label:string}}
 */
export function counterState(text, max, threshold = 0.8) {
  const bytes = utf8Length(text);
  if (!Number.isFinite(max) || max <= 0) {
    return { bytes, max: 0, visible: false, over: false, remaining: Infinity, label: '' };
  }
  const remaining = max - bytes;
  return {
    bytes,
    max,
    visible: bytes >= Math.floor(max * threshold),
    over: bytes > max,
    remaining,
    label: `${bytes} / ${max} bytes`,
  };
}
