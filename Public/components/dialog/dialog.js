// Promise-based dialogs on <dialog>: the page behind is inert, Tab cycles inside (the browser
// alone would let it leave to its own toolbar), Esc cancels, focus returns to what opened it.
import { html, render } from '../../lib/html.js';
import { trapFocus } from '../../lib/focus-trap.js';

function open(content, { onSubmit, initialFocus } = {}) {
  return new Promise((resolve) => {
    const opener = document.activeElement;
    const dialog = document.createElement('dialog');
    dialog.className = 'dialog';
    render(dialog, content);
    document.body.append(dialog);
    let result = null;
    dialog.addEventListener('click', (e) => {
      const action = e.target.closest('[data-dialog]')?.dataset.dialog;
      if (action === 'cancel') dialog.close();
      if (action === 'ok') { result = onSubmit ? onSubmit(dialog) : true; dialog.close(); }
    });
    dialog.addEventListener('submit', (e) => { e.preventDefault(); result = onSubmit ? onSubmit(dialog) : true; dialog.close(); });
    const release = trapFocus(dialog);
    dialog.addEventListener('close', () => {
      release();
      dialog.remove();
      if (opener?.isConnected) opener.focus();
      resolve(result);
    });
    dialog.showModal();
    dialog.querySelector(initialFocus ?? '[data-dialog="ok"]')?.focus();
  });
}

/** Resolves true when confirmed, null when cancelled (button, Esc). */
export function confirmDialog({ title, message, confirmLabel = 'OK', danger = false }) {
  return open(html`
    <h2 class="dialog-title">${title}</h2>
    <p>${message}</p>
    <div class="dialog-actions">
      <button type="button" class="btn" data-dialog="cancel">Cancel</button>
      <button type="button" class="btn ${danger ? 'btn-danger' : 'btn-primary'}" data-dialog="ok">${confirmLabel}</button>
    </div>`).then((r) => r === true);
}

/** Asks for one line of text; resolves with it, or null when cancelled. */
export function promptDialog({ title, label, value = '', confirmLabel = 'OK' }) {
  return open(html`
    <form method="dialog">
      <h2 class="dialog-title">${title}</h2>
      <label class="field"><span>${label}</span><input name="value" value="${value}" autocomplete="off"></label>
      <div class="dialog-actions">
        <button type="button" class="btn" data-dialog="cancel">Cancel</button>
        <button type="submit" class="btn btn-primary">${confirmLabel}</button>
      </div>
    </form>`, { onSubmit: (d) => d.querySelector('input').value.trim(), initialFocus: 'input' });
}

/** Shows content with a Close button. */
export function infoDialog(title, body) {
  return open(html`
    <h2 class="dialog-title">${title}</h2>
    <div class="dialog-body">${body}</div>
    <div class="dialog-actions"><button type="button" class="btn btn-primary" data-dialog="ok">Close</button></div>`);
}
