// Small pure formatting helpers.

/** Local time as HH:MM for an ISO timestamp (or a Date). '' when invalid. */
export function formatTime(ts) {
  const d = ts instanceof Date ? ts : new Date(ts);
  if (Number.isNaN(d.getTime())) return '';
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

/** Full local date and time, for a title tooltip. */
export function formatFull(ts) {
  const d = ts instanceof Date ? ts : new Date(ts);
  if (Number.isNaN(d.getTime())) return '';
  return d.toLocaleString();
}

/** A whole number with thousands separators: 10234 -> "10,234" (same on every locale). */
export function formatCount(n) {
  const v = Number(n);
  if (!Number.isFinite(v)) return '0';
  const s = String(Math.trunc(Math.abs(v)));
  return (v < 0 ? '-' : '') + s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** "1 online" / "10,234 online". */
export function onlineLabel(n) {
  return `${formatCount(n)} online`;
}

/** Text of a presence line. */
export function presenceText(event, name, oldName) {
  switch (event) {
    case 'join': return `${name} joined`;
    case 'leave': return `${name} left`;
    case 'rename': return `${oldName ?? '?'} is now ${name}`;
    default: return `${name}: ${event}`;
  }
}
