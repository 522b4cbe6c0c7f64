// Placeholder rows shown while a list loads (grey shapes, a shimmer unless motion is reduced), so
// a panel is never blank. Hidden from assistive technology: the container says it is busy
// (aria-busy="true") and a visually hidden line says what is loading.
import { html } from './html.js';

/** Conversation-list-like rows: an avatar and two lines each. */
export function listSkeleton(label, rows = 6) {
  return html`<p class="visually-hidden">${label}</p>${Array.from({ length: rows }, () => html`
    <div class="skeleton-row" aria-hidden="true" data-skeleton>
      <span class="skeleton skeleton-avatar"></span>
      <span class="skeleton-lines"><span class="skeleton skeleton-line"></span><span class="skeleton skeleton-line"></span></span>
    </div>`)}`;
}

/** Message-like bubbles, theirs and mine in turn (widths vary in CSS). */
export function messagesSkeleton(label, rows = 6) {
  return html`<p class="visually-hidden">${label}</p>${Array.from({ length: rows }, () => html`
    <div class="skeleton skeleton-bubble" aria-hidden="true" data-skeleton></div>`)}`;
}

/** aria-busy="true" while loading; removed (not "false") once the content is there. */
export function setBusy(element, busy) {
  if (busy) element.setAttribute('aria-busy', 'true');
  else element.removeAttribute('aria-busy');
}
