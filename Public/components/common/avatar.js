// Avatars with initials when there is no picture, and the presence dot.
import { html, safeURL } from '../../lib/html.js';
import { lastSeenText } from '../../lib/time.js';

function initials(name) {
  const letters = String(name ?? '?').replace(/^@/, '').split(/\s+/).filter(Boolean).slice(0, 2).map((w) => [...w][0]).join('');
  return (letters || '?').toUpperCase();
}

/** `statusFor`: a user id put on the dot, for views that update dots in place. */
export function avatar(person, { size = 40, status = null, group = false, statusFor = null } = {}) {
  const name = person?.displayName ?? person?.name ?? person?.username ?? '?';
  const image = person?.profileImage ?? person?.avatar;
  return html`<span class="avatar ${group ? 'avatar-group' : ''}" style="--size:${size}px">
    ${image ? html`<img src="${safeURL(image)}" alt="">` : html`<span class="avatar-initials" aria-hidden="true">${initials(name)}</span>`}
    ${status ? html`<span class="presence-dot presence-${status}" title="${status}" ${statusFor ? html`data-member-presence="${statusFor}"` : ''}></span>` : ''}
  </span>`;
}

/** {status, text} for a user from live presence, falling back to the profile's lastSeen. */
export function presenceOf(user, presence, now = new Date()) {
  const live = presence[user.id];
  const status = live?.status ?? 'offline';
  if (status === 'online') return { status, text: 'online' };
  if (status === 'away') return { status, text: 'away' };
  return { status: 'offline', text: lastSeenText(live?.lastSeen ?? user.lastSeen, now) };
}
