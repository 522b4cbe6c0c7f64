// `:shortcodes:` in the message box: after a colon and two letters, a list of matching emoji
// (↑/↓ choose, Enter or Tab inserts, Esc dismisses); a complete `:name:` becomes its emoji at
// once. Loaded the first time the box holds a colon.
import { html, render } from '../../lib/html.js';
import { findEmoji, emojiByShortcode, shortcodeBeforeCaret } from '../../lib/emoji-search.js';
import { rememberEmoji } from '../../lib/recent-emoji.js';

const SHOWN = 8;

/**
 * `list`: the element the suggestions are drawn in. `replace(start, end, emoji)` puts an emoji in
 * the box in place of the shortcode. Returns `update()` (after each input) and `handleKey(event)`
 * (true when the key was the list's, so the composer must not act on it, e.g. send on Enter).
 */
export function attachShortcodes(input, list, { replace }) {
  let shown = null;            // { start, end, matches, active } while the list is open
  let dismissedAt = null;      // where the shortcode dismissed with Esc starts: not offered again

  function close() {
    shown = null;
    list.hidden = true;
    render(list, html``);
    input.removeAttribute('aria-activedescendant');
  }

  function draw() {
    render(list, html`${shown.matches.map((e, i) => html`
      <li role="option" id="shortcode-option-${i}" class="shortcode-option" data-shortcode-index="${i}" aria-selected="${i === shown.active ? 'true' : 'false'}">
        <span class="shortcode-emoji" aria-hidden="true">${e.emoji}</span> :${e.name}:</li>`)}`);
    list.hidden = false;
    input.setAttribute('aria-activedescendant', `shortcode-option-${shown.active}`);
  }

  function choose(entry) {
    const { start, end } = shown;
    close();
    rememberEmoji(entry.emoji);
    replace(start, end, entry.emoji);
  }

  function update() {
    const caret = input.selectionStart;
    const found = input.selectionEnd === caret ? shortcodeBeforeCaret(input.value, caret) : null;
    if (!found) { dismissedAt = null; close(); return; }
    if (found.closed) {
      const emoji = emojiByShortcode(found.query);
      close();
      if (emoji) { rememberEmoji(emoji); replace(found.start, caret, emoji); }
      return;
    }
    if (found.start === dismissedAt) { close(); return; }
    const matches = findEmoji(found.query, SHOWN);
    if (!matches.length) { close(); return; }
    shown = { start: found.start, end: caret, matches, active: 0 };
    draw();
  }

  function handleKey(e) {
    if (!shown || e.isComposing) return false;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      const step = e.key === 'ArrowDown' ? 1 : -1;
      shown.active = (shown.active + step + shown.matches.length) % shown.matches.length;
      draw();
    } else if ((e.key === 'Enter' && !e.shiftKey) || e.key === 'Tab') {
      choose(shown.matches[shown.active]);
    } else if (e.key === 'Escape') {
      dismissedAt = shown.start;
      close();
      e.stopPropagation();
    } else {
      return false;
    }
    e.preventDefault();
    return true;
  }

  // A click chooses without taking the focus from the box.
  list.addEventListener('mousedown', (e) => e.preventDefault());
  list.addEventListener('click', (e) => {
    const option = e.target.closest('[data-shortcode-index]');
    if (option && shown) choose(shown.matches[Number(option.dataset.shortcodeIndex)]);
  });
  input.addEventListener('blur', close);
  close();
  return { update, handleKey };
}
