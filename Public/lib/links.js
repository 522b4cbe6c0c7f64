// Links in message text: which parts of a text are links (http, https and mailto only — never
// `javascript:` or anything else), and which link gets a preview card. Pure functions, tested in
// Node; the view turns the parts into markup with the escaping `html` tag.

// A link starts at a scheme we allow (or "www.") and runs to the next space or angle bracket.
const LINK = /\b(?:https?:\/\/|mailto:|www\.)[^\s<>"]+/gi;
// Punctuation that ends a sentence is not part of the link ("see https://x.org.").
const TRAILING = /[.,;:!?'"*_~]+$/;

function trim(candidate) {
  let link = candidate.replace(TRAILING, '');
  // A closing bracket belongs to the link only when the link opened one: "(see https://a.b/c)".
  for (const [open, close] of [['(', ')'], ['[', ']'], ['{', '}']]) {
    while (link.endsWith(close) && link.split(open).length < link.split(close).length) {
      link = link.slice(0, -1).replace(TRAILING, '');
    }
  }
  return link;
}

/** The address a link found in text points to, or null when it is not one we open. */
export function linkHref(text) {
  const href = /^www\./i.test(text) ? `https://${text}` : text;
  let url;
  try { url = new URL(href); } catch { return null; }
  if (url.protocol === 'mailto:') return /^mailto:[^@\s]+@[^@\s]+$/i.test(href) ? href : null;
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  return url.hostname ? href : null;
}

/**
 * The text cut into parts: `{text}` for plain text, `{text, href}` for a link. Joining every
 * part's text gives the original text back.
 */
export function linkParts(text) {
  const parts = [];
  if (typeof text !== 'string' || text === '') return parts;
  let at = 0;
  for (const match of text.matchAll(LINK)) {
    const link = trim(match[0]);
    const href = link ? linkHref(link) : null;
    if (!href) continue;
    if (match.index > at) parts.push({ text: text.slice(at, match.index) });
    parts.push({ text: link, href });
    at = match.index + link.length;
  }
  if (at < text.length) parts.push({ text: text.slice(at) });
  return parts;
}

/** The first http(s) link of a text (the one a preview card is shown for), or null. */
export function firstWebLink(text) {
  const part = linkParts(text).find((p) => p.href && /^https?:/i.test(p.href));
  return part ? part.href : null;
}

/**
 * Link preview cards, fetched once per link per page load: `get(url)` answers the card (or null
 * when there is none: 422, 403, 400, offline), sharing one request between concurrent asks;
 * `peek(url)` answers what is known now (undefined while not fetched).
 */
export class LinkPreviews {
  constructor(fetchCard) {
    this.fetchCard = fetchCard;
    this.cards = new Map();     // url → card | null
    this.asks = new Map();      // url → Promise
  }

  peek(url) { return this.cards.get(url); }

  get(url) {
    if (this.cards.has(url)) return Promise.resolve(this.cards.get(url));
    if (!this.asks.has(url)) {
      this.asks.set(url, Promise.resolve()
        .then(() => this.fetchCard(url))
        .then((card) => (card && (card.title || card.description || card.image) ? card : null), () => null)
        .then((card) => { this.cards.set(url, card); this.asks.delete(url); return card; }));
    }
    return this.asks.get(url);
  }
}
