// Toasts: short notices in a live region, gone after a few seconds (click to dismiss sooner).
import { html, render } from '../../lib/html.js';

let region;

export function toast(message, kind = 'info', ms = 4000) {
  if (!region) {
    region = document.createElement('div');
    region.className = 'toasts';
    region.setAttribute('role', 'status');
    region.setAttribute('aria-live', 'polite');
    document.body.append(region);
  }
  const item = document.createElement('div');
  item.className = `toast toast-${kind}`;
  render(item, html`${message}`);
  item.addEventListener('click', () => item.remove());
  region.append(item);
  setTimeout(() => item.remove(), ms);
  return item;
}
