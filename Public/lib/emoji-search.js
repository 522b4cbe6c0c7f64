// Finding emoji by words (the picker's search box) and by `:shortcode:` (typed in the message box).
import { EMOJI } from './emoji-data.js';

const BY_NAME = new Map(EMOJI.map((e) => [e.name, e]));

/**
 * Emoji whose name or words match `query` (every word of it), best first: the name itself, then
 * the name starting with the query, then a word starting with it, then containing it anywhere.
 */
export function findEmoji(query, limit = Infinity) {
  const terms = query.toLowerCase().trim().split(/[\s_]+/).filter(Boolean);
  if (!terms.length) return EMOJI.slice(0, limit);
  const scored = [];
  for (const entry of EMOJI) {
    const words = [...entry.name.split('_'), ...entry.words];
    let score = 0;
    for (const term of terms) {
      const best = entry.name === term ? 4 : entry.name.startsWith(term) ? 3 : words.some((w) => w.startsWith(term)) ? 2 : words.some((w) => w.includes(term)) ? 1 : 0;
      if (!best) { score = 0; break; }
      score += best;
    }
    if (score) scored.push({ entry, score });
  }
  return scored.sort((a, b) => b.score - a.score).slice(0, limit).map((s) => s.entry);
}

/** The emoji named `name` (a shortcode without its colons), or null. */
export function emojiByShortcode(name) {
  return BY_NAME.get(name.toLowerCase())?.emoji ?? null;
}

/**
 * The shortcode being typed just before the caret: `:` at the start or after a space, then at
 * least two letters (so "12:30" and "https://" are left alone). `{start, query, closed}`, with
 * `closed` when the closing colon has been typed; null when there is none.
 */
export function shortcodeBeforeCaret(text, caret) {
  const match = /(^|\s):([a-z0-9_+-]{2,})(:?)$/i.exec(text.slice(0, caret));
  if (!match) return null;
  return { start: match.index + match[1].length, query: match[2], closed: match[3] === ':' };
}
