// The "Keyboard shortcuts" dialog (the ? key), loaded when first asked for: every shortcut of
// the web client in one list, including those handled where they act (search, composer, Esc).
import { html } from './html.js';
import { infoDialog } from '../components/dialog/dialog.js';

const SHORTCUTS = [
  ['Ctrl+K or /', 'Search people and messages (Cmd+K on a Mac)'],
  ['Alt+↑ / Alt+↓', 'Open the previous / next conversation'],
  ['Enter', 'Send the message (Shift+Enter: new line)'],
  ['↑', 'Edit your last message (in an empty message box)'],
  ['Esc', 'Close a panel or dialog, cancel a reply or edit, clear the search'],
  ['?', 'Show these shortcuts'],
];

export function showShortcuts() {
  return infoDialog('Keyboard shortcuts', html`
    <dl class="shortcut-list">
      ${SHORTCUTS.map(([keys, action]) => html`<dt><kbd>${keys}</kbd></dt><dd>${action}</dd>`)}
    </dl>`);
}
