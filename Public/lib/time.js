// Human times for the UI; `now` is a parameter so the functions are pure (and tested in Node).

export function lastSeenText(lastSeen, now = new Date()) {
  if (!lastSeen) return 'offline';
  const seconds = Math.max(0, Math.floor((now - new Date(lastSeen)) / 1000));
  if (seconds < 60) return 'last seen just now';
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `last seen ${minutes}m ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `last seen ${hours}h ago`;
  const days = Math.floor(hours / 24);
  if (days < 7) return `last seen ${days}d ago`;
  return `last seen ${new Date(lastSeen).toLocaleDateString()}`;
}

export function clockTime(iso) {
  return new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/** Conversation list stamp: time today, weekday this week, else the date. */
export function shortStamp(iso, now = new Date()) {
  if (!iso) return '';
  const date = new Date(iso);
  if (date.toDateString() === now.toDateString()) return clockTime(iso);
  if (now - date < 6 * 86400000) return date.toLocaleDateString([], { weekday: 'short' });
  return date.toLocaleDateString();
}

export function formatBytes(bytes) {
  if (!Number.isFinite(bytes) || bytes < 0) return '';
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

export function formatDuration(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return '0:00';
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** A date separator's words: "Today", "Yesterday", else the date (with the year when not this year's). */
export function dayLabel(iso, now = new Date()) {
  const date = new Date(iso);
  const start = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const days = Math.round((start(now) - start(date)) / 86400000);
  if (days === 0) return 'Today';
  if (days === 1) return 'Yesterday';
  const options = { weekday: 'long', day: 'numeric', month: 'long' };
  if (date.getFullYear() !== now.getFullYear()) options.year = 'numeric';
  return date.toLocaleDateString([], options);
}
