// Signed-in users: the account token (JWT) an embedding app gives the page in the URL
// fragment, /#token=JWT. A fragment is never sent to a server nor put in a Referer; the page
// keeps the token in sessionStorage (this tab only) and removes it from the address bar.
// The server checks the token; the page only reads its `exp`, to stop retrying once it is
// past (a browser cannot see the 401 that refuses an expired token).

export const JWT_KEY = 'confab.jwt';

/**
 * The token in a fragment such as `#token=JWT` or `#room=x&token=JWT`, and the fragment
 * without it ('' when nothing is left).
 * @param {string|undefined} hash  location.hash
 * @returns {{token: string|null, rest: string}}
 */
export function tokenFromFragment(hash) {
  const text = typeof hash === 'string' ? hash.replace(/^#/, '') : '';
  if (text === '') return { token: null, rest: hash ?? '' };
  let token = null;
  const kept = [];
  for (const part of text.split('&')) {
    if (part.startsWith('token=')) {
      try { token = decodeURIComponent(part.slice(6)); } catch { token = part.slice(6); }
    } else if (part !== '') kept.push(part);
  }
  if (token === null) return { token: null, rest: hash };
  return { token: token === '' ? null : token, rest: kept.length ? `#${kept.join('&')}` : '' };
}

/**
 * When the token expires (`exp`, in ms), read without checking the signature; null when
 * it cannot be read.
 * @param {string} jwt
 */
export function tokenExpiry(jwt) {
  const payload = typeof jwt === 'string' ? jwt.split('.')[1] : undefined;
  if (!payload) return null;
  try {
    const b64 = payload.replace(/-/g, '+').replace(/_/g, '/');
    const claims = JSON.parse(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)));
    return typeof claims?.exp === 'number' && Number.isFinite(claims.exp) ? claims.exp * 1000 : null;
  } catch {
    return null;
  }
}

/** Past its `exp` at `nowMs` (a token whose `exp` cannot be read is left to the server). */
export function tokenExpired(jwt, nowMs) {
  const exp = tokenExpiry(jwt);
  return exp !== null && exp <= nowMs;
}
