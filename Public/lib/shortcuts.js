// Keyboard shortcuts of the chats view: Alt+↑ / Alt+↓ open the previous / next conversation of
// the list, ? lists every shortcut (shortcuts-help.js). Ctrl/Cmd+K and / (the search, in
// sidebar.js), ↑ and Enter (the composer) and Esc (panels, dialogs, the search) are handled where
// they act. Alt+↑/↓ and ? do nothing while typing in a text field or behind an open panel or
// dialog (Ctrl/Cmd+K and / belong to the sidebar, which does not check for panels).
import { hasOpenPanel } from '../components/panel/panel.js';
import { lazy } from './lazy.js';

const showShortcuts = lazy(() => import('./shortcuts-help.js'), 'showShortcuts');   // loaded when asked for

const NOT_TEXT = new Set(['checkbox', 'radio', 'button', 'submit', 'reset', 'file', 'range', 'color']);

function isTextField(el) {
  return !!el && (el.isContentEditable || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT'
    || (el.tagName === 'INPUT' && !NOT_TEXT.has(el.type)));
}

/** Listens on the document while the chats view (`root`, holding the conversation list) is shown. */
export function attachShortcuts(root) {
  function onKey(e) {
    if (e.defaultPrevented || isTextField(e.target) || hasOpenPanel() || document.querySelector('dialog[open]')) return;
    if (e.altKey && !e.ctrlKey && !e.metaKey && (e.key === 'ArrowUp' || e.key === 'ArrowDown')) {
      e.preventDefault();
      openNeighbour(root, e.key === 'ArrowUp' ? -1 : 1);
    } else if (e.key === '?' && !e.ctrlKey && !e.metaKey && !e.altKey) {
      e.preventDefault();
      showShortcuts();
    }
  }
  document.addEventListener('keydown', onKey);
  return () => document.removeEventListener('keydown', onKey);
}

/** Opens the conversation `step` places from the open one (none open: the first, or the last going up). */
function openNeighbour(root, step) {
  const items = [...root.querySelectorAll('[data-list] [data-key]')];
  if (!items.length) return;
  const current = items.findIndex((item) => item.getAttribute('aria-current') === 'true');
  const index = current === -1 ? (step > 0 ? 0 : items.length - 1) : Math.min(Math.max(current + step, 0), items.length - 1);
  if (index === current) return;
  const { key } = items[index].dataset;
  items[index].click();
  // Focus the new chat's item (the list may be drawn again later and drop it; the next Alt+↓
  // starts from the item marked aria-current either way).
  root.querySelector(`[data-list] [data-key="${CSS.escape(key)}"]`)?.focus();
}
