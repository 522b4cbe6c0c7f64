// Escaping by default: every value interpolated into an `html` template is escaped unless it is
// itself the result of `html` (or of `trusted`, reserved for markup written in this code base).
// Views build markup only with this tag, so user text can never become markup.

export class SafeHTML {
  constructor(text) { this.text = text; }
  toString() { return this.text; }
}

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

export function escapeHTML(value) {
  return String(value).replace(/[&<>"'`]/g, (c) => ESCAPES[c]);
}

function piece(value) {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHTML) return value.text;
  if (Array.isArray(value)) return value.map(piece).join('');
  return escapeHTML(value);
}

export function html(strings, ...values) {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += piece(values[i]) + strings[i + 1];
  return new SafeHTML(out);
}

/** Markup from this code base only (icons, constants) — never user data. */
export function trusted(markup) { return new SafeHTML(markup); }

/** URLs from the server or the browser only: anything else (javascript:, data:text/html) becomes "#". */
export function safeURL(url) {
  if (typeof url !== 'string' || url === '') return '#';
  if (/^(https?:|blob:|\/)/i.test(url) || /^data:image\/(png|jpeg|gif|webp|svg\+xml);/i.test(url)) return url;
  return '#';
}

/** Replaces an element's content; refuses plain strings so raw user text cannot slip in. */
export function render(element, content) {
  if (!(content instanceof SafeHTML)) throw new TypeError('render() takes the result of html``');
  element.innerHTML = content.text;
}

/** A CSS `url(...)` value for a server URL, safe inside a style attribute. */
export function cssURL(url) {
  return `url("${safeURL(url).replace(/["'()\\\s]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`)}")`;
}
