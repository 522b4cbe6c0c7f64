// The emoji picker: a popover over the message box with a search box, the "Recent" row and every
// emoji. Loaded when first opened (with the emoji list). Keyboard: Tab or ↓ from the search box
// into the emoji, arrows move between them, Enter (or a click) picks one, Esc closes; the
// composer then puts the focus back in the message box.
import { html, render } from '../../lib/html.js';
import { findEmoji } from '../../lib/emoji-search.js';
import { recentEmoji, rememberEmoji } from '../../lib/recent-emoji.js';
import { EMOJI } from '../../lib/emoji-data.js';

const BY_EMOJI = new Map(EMOJI.map((e) => [e.emoji, e]));

/**
 * Opens the picker in `container`. `onPick(emoji)` when one is chosen (it closes then),
 * `onClose({ byKeyboard })` whenever it closes. Returns the function that closes it.
 */
export function openEmojiPicker(container, { onPick, onClose }) {
  render(container, html`
    <div class="emoji-picker" data-emoji-picker role="dialog" aria-label="Emoji">
      <input type="search" class="emoji-search" data-emoji-search placeholder="Search emoji" aria-label="Search emoji" autocomplete="off">
      <div class="emoji-results" data-emoji-results></div>
    </div>`);
  container.hidden = false;
  const picker = container.querySelector('[data-emoji-picker]');
  const search = picker.querySelector('[data-emoji-search]');
  const results = picker.querySelector('[data-emoji-results]');

  function button(entry, tabbable) {
    const label = entry.name.replaceAll('_', ' ');
    return html`<button type="button" class="emoji-btn" data-emoji="${entry.emoji}" title=":${entry.name}:" aria-label="${label}"
      tabindex="${tabbable ? '0' : '-1'}">${entry.emoji}</button>`;
  }

  function draw() {
    const query = search.value.trim();
    const recent = query ? [] : recentEmoji().map((e) => BY_EMOJI.get(e)).filter(Boolean);
    const found = findEmoji(query);
    render(results, html`
      ${recent.length ? html`<h3 class="emoji-heading" id="emoji-recent">Recent</h3>
        <div class="emoji-grid" data-emoji-recent role="group" aria-labelledby="emoji-recent">${recent.map((e, i) => button(e, i === 0))}</div>` : ''}
      <h3 class="emoji-heading" id="emoji-all">${query ? 'Results' : 'All emoji'}</h3>
      ${found.length ? html`<div class="emoji-grid" data-emoji-all role="group" aria-labelledby="emoji-all">${found.map((e, i) => button(e, i === 0 && !recent.length))}</div>`
        : html`<p class="empty" data-emoji-none>No emoji found for “${query}”</p>`}`);
  }

  function buttons() { return [...results.querySelectorAll('.emoji-btn')]; }

  /** Moves the focus (and the one tab stop) to `target`. */
  function focusButton(target) {
    if (!target) return;
    for (const b of buttons()) b.tabIndex = b === target ? 0 : -1;
    target.focus();
  }

  /** The button above or below `from`: in the nearest row that way, the one nearest horizontally. */
  function vertical(from, direction) {
    const box = from.getBoundingClientRect();
    const rows = buttons().map((b) => ({ b, r: b.getBoundingClientRect() }))
      .filter(({ r }) => (direction > 0 ? r.top > box.top + 2 : r.top < box.top - 2));
    if (!rows.length) return null;
    const rowTop = direction > 0 ? Math.min(...rows.map(({ r }) => r.top)) : Math.max(...rows.map(({ r }) => r.top));
    const row = rows.filter(({ r }) => Math.abs(r.top - rowTop) < 2);
    const centre = box.left + box.width / 2;
    return row.reduce((best, c) => (Math.abs(c.r.left + c.r.width / 2 - centre) < Math.abs(best.r.left + best.r.width / 2 - centre) ? c : best)).b;
  }

  function pick(emoji) {
    rememberEmoji(emoji);
    close({ byKeyboard: false });
    onPick(emoji);
  }

  picker.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); close({ byKeyboard: true }); return; }
    if (e.target === search) {
      if (e.key === 'ArrowDown') { e.preventDefault(); focusButton(buttons()[0]); }
      if (e.key === 'Enter') { e.preventDefault(); const first = buttons()[0]; if (first) pick(first.dataset.emoji); }
      return;
    }
    const current = e.target.closest('.emoji-btn');
    if (!current) return;
    const all = buttons();
    const index = all.indexOf(current);
    const moves = {
      ArrowRight: () => all[index + 1], ArrowLeft: () => all[index - 1], ArrowDown: () => vertical(current, 1),
      ArrowUp: () => vertical(current, -1) ?? search, Home: () => all[0], End: () => all[all.length - 1],
    };
    if (!moves[e.key]) return;
    e.preventDefault();
    const target = moves[e.key]();
    if (target === search) search.focus(); else focusButton(target);
  });
  picker.addEventListener('click', (e) => {
    const chosen = e.target.closest('[data-emoji]');
    if (chosen) pick(chosen.dataset.emoji);
  });
  search.addEventListener('input', draw);
  // A press anywhere else closes it (the toggle button closes it itself).
  const outside = (e) => { if (!container.contains(e.target) && !e.target.closest('[data-emoji-toggle]')) close({ byKeyboard: false }); };
  document.addEventListener('pointerdown', outside);

  let open = true;
  function close({ byKeyboard }) {
    if (!open) return;
    open = false;
    document.removeEventListener('pointerdown', outside);
    container.hidden = true;
    render(container, html``);
    onClose({ byKeyboard });
  }

  draw();
  search.focus();
  return () => close({ byKeyboard: false });
}
