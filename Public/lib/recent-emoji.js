// The emoji used last on this device, most recent first, for the picker's "Recent" row.

export const RECENT_LIMIT = 24;
const KEY = 'chatr.emoji.recent';

export function recentEmoji(storage = localStorage) {
  try {
    const list = JSON.parse(storage.getItem(KEY));
    return Array.isArray(list) ? list.filter((e) => typeof e === 'string').slice(0, RECENT_LIMIT) : [];
  } catch { return []; }
}

export function rememberEmoji(emoji, storage = localStorage) {
  const list = [emoji, ...recentEmoji(storage).filter((e) => e !== emoji)].slice(0, RECENT_LIMIT);
  try { storage.setItem(KEY, JSON.stringify(list)); } catch { /* storage full or off: not remembered */ }
  return list;
}
