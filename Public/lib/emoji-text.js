// Whether a message is only emoji (1 to 3, whitespace ignored): the chat shows those large.
// Counted in graphemes — what a reader sees as one emoji: a flag is two code points, a family
// several joined by U+200D, a thumbs-up with a skin tone two — not in code points.

// Made on first use, and only where it exists (Firefox has it since 125): without it, code points.
let segmenter;
function graphemesOf(text) {
  if (typeof Intl.Segmenter !== 'function') return [...text];
  segmenter ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  return Array.from(segmenter.segment(text), (s) => s.segment);
}

// One emoji: a flag (two regional indicators), a keycap (#, * or a digit, optional U+FE0F, U+20E3),
// or pictographs with what may follow them (skin tones, U+FE0F, tags, U+200D joining the next one).
const EMOJI_GRAPHEME = /^(?:\p{Regional_Indicator}{2}|[#*0-9]\uFE0F?\u20E3|\p{Extended_Pictographic}(?:[\p{Emoji_Modifier}\uFE0F\u{E0020}-\u{E007F}]|\u200D\p{Extended_Pictographic})*)$/u;

export const MAX_BIG_EMOJI = 3;

export function isEmojiOnly(text) {
  const graphemes = [];
  for (const segment of graphemesOf(String(text ?? ''))) {
    if (/^\s+$/u.test(segment)) continue;
    if (!EMOJI_GRAPHEME.test(segment) || graphemes.length === MAX_BIG_EMOJI) return false;
    graphemes.push(segment);
  }
  return graphemes.length > 0;
}
