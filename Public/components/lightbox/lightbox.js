// Full-screen image viewer; Esc, the close button or a click outside the image closes it.
import { html, render, safeURL } from '../../lib/html.js';

export function openLightbox(url, caption = '') {
  const box = document.createElement('div');
  box.className = 'lightbox';
  box.setAttribute('role', 'dialog');
  box.setAttribute('aria-label', 'Image');
  render(box, html`
    <button type="button" class="icon-btn lightbox-close" aria-label="Close">✕</button>
    <img src="${safeURL(url)}" alt="${caption || 'Image'}">
    ${caption ? html`<p class="lightbox-caption">${caption}</p>` : ''}`);
  const close = () => { box.remove(); document.removeEventListener('keydown', onKey, true); };
  const onKey = (e) => { if (e.key === 'Escape') { e.stopPropagation(); e.preventDefault(); close(); } };
  box.addEventListener('click', (e) => { if (e.target.tagName !== 'IMG') close(); });
  document.addEventListener('keydown', onKey, true);
  document.body.append(box);
  box.querySelector('.lightbox-close').focus();
}
