// Another person's profile: cover, photo, names and presence.
import { html, render, cssURL } from '../../lib/html.js';
import { openPanel } from '../panel/panel.js';
import { avatar, presenceOf } from '../common/avatar.js';

export function openProfile(controller, person) {
  openPanel(person.displayName, (body) => {
    let fetched = {};
    const draw = () => {
      // The profile as the server has it now (the bio is not in the list's copy), and a name or
      // photo changed while the panel is open (user:updated) at once.
      const user = { ...person, ...fetched, ...(controller.store.get().users?.[person.id] ?? {}) };
      const presence = presenceOf(user, controller.store.get().presence);
      const fullName = [user.firstName, user.lastName].filter(Boolean).join(' ');
      render(body, html`
        <div class="profile-cover" style="${user.coverImage ? `background-image:${cssURL(user.coverImage)}` : ''}">
          <div class="profile-avatar">${avatar(user, { size: 88, status: presence.status })}</div>
        </div>
        <h3 class="profile-name">${user.displayName}</h3>
        <p class="profile-username">${user.username}</p>
        ${fullName ? html`<p>${fullName}</p>` : ''}
        ${user.bio ? html`<p class="profile-bio" data-profile-bio>${user.bio}</p>` : ''}
        <p class="muted" data-profile-presence>${presence.text}</p>`);
    };
    draw();
    if (person.username) {
      controller.api.get(`/api/users/${encodeURIComponent(person.username)}`)
        .then((user) => { if (user?.id === person.id && body.isConnected) { fetched = user; draw(); } }, () => { /* offline: what the list had */ });
    }
    return controller.store.subscribe((_, changed) => { if (changed.has('presence') || changed.has('users')) draw(); });
  });
}
