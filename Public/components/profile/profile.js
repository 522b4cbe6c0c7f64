// Another person's profile: cover, photo, names and presence.
import { html, render, cssURL } from '../../lib/html.js';
import { openPanel } from '../panel/panel.js';
import { avatar, presenceOf } from '../common/avatar.js';

export function openProfile(controller, user) {
  openPanel(user.displayName, (body) => {
    const draw = () => {
      const presence = presenceOf(user, controller.store.get().presence);
      const fullName = [user.firstName, user.lastName].filter(Boolean).join(' ');
      render(body, html`
        <div class="profile-cover" style="${user.coverImage ? `background-image:${cssURL(user.coverImage)}` : ''}">
          <div class="profile-avatar">${avatar(user, { size: 88, status: presence.status })}</div>
        </div>
        <h3 class="profile-name">${user.displayName}</h3>
        <p class="profile-username">${user.username}</p>
        ${fullName ? html`<p>${fullName}</p>` : ''}
        <p class="muted" data-profile-presence>${presence.text}</p>`);
    };
    draw();
    return controller.store.subscribe((_, changed) => { if (changed.has('presence')) draw(); });
  });
}
