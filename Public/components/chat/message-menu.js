// The menu of a message (⋯ button, right-click): react, reply, edit, edit history, unsend, copy.
import { html, render, trusted } from '../../lib/html.js';
import { clockTime } from '../../lib/time.js';
import { confirmDialog, infoDialog } from '../dialog/dialog.js';
import { toast } from '../toast/toast.js';

export const QUICK_REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '🙏'];

// Drawn, not a character: "⧉" is in few fonts and showed as an empty box (headless Chromium, many phones).
const COPY_ICON = trusted(`<svg class="menu-icon" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false"
  fill="none" stroke="currentColor" stroke-width="1.5" stroke-linejoin="round"><rect x="5.5" y="5.5" width="8" height="8" rx="1.5"/>
  <path d="M3.5 10.5h-.5a1 1 0 0 1-1-1v-6.5a1 1 0 0 1 1-1h6.5a1 1 0 0 1 1 1v.5"/></svg>`);

let openMenu = null;

export function closeMessageMenu() {
  if (!openMenu) return;
  const { menu, anchor } = openMenu;
  openMenu = null;
  menu.remove();
  document.removeEventListener('keydown', onKey, true);
  document.removeEventListener('pointerdown', onOutside, true);
  anchor?.focus?.();
}

function onKey(e) {
  if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); closeMessageMenu(); return; }
  if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
    const items = [...openMenu.menu.querySelectorAll('button')];
    const index = items.indexOf(document.activeElement);
    items[(index + (e.key === 'ArrowDown' ? 1 : items.length - 1)) % items.length].focus();
    e.preventDefault();
  }
}

function onOutside(e) { if (openMenu && !openMenu.menu.contains(e.target)) closeMessageMenu(); }

export function openMessageMenu(controller, anchor, message) {
  closeMessageMenu();
  if (!message) return;
  const me = controller.me;
  const mine = message.senderId === me.id;
  const menu = document.createElement('div');
  menu.className = 'menu';
  menu.setAttribute('role', 'menu');
  render(menu, html`
    <div class="menu-reactions" role="group" aria-label="React">
      ${QUICK_REACTIONS.map((emoji) => html`<button type="button" role="menuitem" data-emoji="${emoji}" aria-label="React ${emoji}">${emoji}</button>`)}
    </div>
    <button type="button" role="menuitem" data-do="reply">↩ Reply</button>
    ${mine && message.type === 'text' ? html`<button type="button" role="menuitem" data-do="edit">✏️ Edit</button>` : ''}
    ${message.edited ? html`<button type="button" role="menuitem" data-do="history">🕘 Edit history</button>` : ''}
    ${message.type === 'text' ? html`<button type="button" role="menuitem" data-do="copy">${COPY_ICON} Copy text</button>` : ''}
    ${mine ? html`<button type="button" role="menuitem" class="danger" data-do="unsend">⌫ Unsend</button>` : ''}`);
  document.body.append(menu);
  const rect = anchor.getBoundingClientRect();
  const top = Math.min(rect.bottom + 4, window.innerHeight - menu.offsetHeight - 8);
  const left = Math.min(Math.max(8, rect.left), window.innerWidth - menu.offsetWidth - 8);
  menu.style.top = `${Math.max(8, top)}px`;
  menu.style.left = `${left}px`;
  openMenu = { menu, anchor };
  document.addEventListener('keydown', onKey, true);
  document.addEventListener('pointerdown', onOutside, true);
  menu.querySelector('button').focus();

  menu.addEventListener('click', async (e) => {
    const button = e.target.closest('button');
    if (!button) return;
    closeMessageMenu();
    const { store } = controller;
    try {
      if (button.dataset.emoji) await controller.react(message.id, button.dataset.emoji);
      switch (button.dataset.do) {
        case 'reply': store.update({ replyTo: message, editing: null }); break;
        case 'edit': store.update({ editing: message, replyTo: null }); break;
        case 'history': await showEditHistory(controller, message.id); break;
        case 'copy': await navigator.clipboard?.writeText(message.content); toast('Copied'); break;
        case 'unsend':
          if (await confirmDialog({ title: 'Unsend message?', message: 'It will be removed for everyone in this conversation.', confirmLabel: 'Unsend', danger: true })) {
            await controller.unsend(message.id);
          }
          break;
        default: break;
      }
    } catch (err) { toast(err.message, 'error'); }
  });
}

export async function showEditHistory(controller, messageId) {
  try {
    const { edits } = await controller.edits(messageId);
    const current = controller.chat(controller.store.get().active.key).messages.find((m) => m.id === messageId);
    await infoDialog('Edit history', html`<ol class="edit-history">
      ${edits.map((edit) => html`<li><p class="text">${edit.previousContent}</p>
        <small>replaced ${new Date(edit.editedAt).toLocaleDateString()} ${clockTime(edit.editedAt)} by ${edit.editedBy?.displayName ?? ''}</small></li>`)}
      ${current ? html`<li class="current"><p class="text">${current.content}</p><small>current</small></li>` : ''}
    </ol>`);
  } catch (err) { toast(err.message, 'error'); }
}
