// Stacked slide-in panels (profile, settings, group info): each new panel slides over the last,
// Esc or the back button closes the top one, focus returns to what opened it. While open, Tab
// stays inside the top panel (it is modal for the keyboard, so it says so: aria-modal).
import { html, render } from '../../lib/html.js';
import { trapFocus } from '../../lib/focus-trap.js';

const stack = [];

export function openPanel(title, build) {
  const opener = document.activeElement;
  const panel = document.createElement('section');
  panel.className = 'panel';
  panel.setAttribute('role', 'dialog');
  panel.setAttribute('aria-label', title);
  panel.setAttribute('aria-modal', 'true');
  panel.style.zIndex = String(50 + stack.length);
  render(panel, html`
    <header class="panel-header">
      <button type="button" class="icon-btn" data-close aria-label="Close" title="Close (Esc)">←</button>
      <h2>${title}</h2>
    </header>
    <div class="panel-body"></div>`);
  document.body.append(panel);
  const entry = { panel, opener, cleanup: null, release: trapFocus(panel) };
  stack.push(entry);
  panel.querySelector('[data-close]').addEventListener('click', () => closePanel(entry));
  entry.cleanup = build(panel.querySelector('.panel-body'), () => closePanel(entry)) ?? null;
  requestAnimationFrame(() => panel.classList.add('open'));
  panel.querySelector('[data-close]').focus();
  return entry;
}

export function closePanel(entry = stack[stack.length - 1]) {
  const index = stack.indexOf(entry);
  if (index === -1) return;
  stack.splice(index, 1);
  entry.cleanup?.();
  entry.release();
  entry.panel.remove();
  entry.opener?.focus?.();
}

export function closeAllPanels() { while (stack.length) closePanel(); }

export function hasOpenPanel() { return stack.length > 0; }

document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && stack.length && !document.querySelector('dialog[open]')) { e.preventDefault(); closePanel(); }
});
