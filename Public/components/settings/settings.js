// Settings: names, profile and cover image, online-status visibility, notifications on this
// device (Web Push while Chatr is closed; desktop notifications and a sound while it is open),
// two-factor authentication, theme, sign out.
import { html, render, safeURL, cssURL } from '../../lib/html.js';
import { openPanel, closeAllPanels } from '../panel/panel.js';
import { confirmDialog, promptDialog } from '../dialog/dialog.js';
import { toast } from '../toast/toast.js';
import { avatar } from '../common/avatar.js';
import { setTheme } from '../../lib/theme.js';
import * as push from '../../lib/push.js';
import * as notifier from '../../lib/notifier.js';
import { lazy } from '../../lib/lazy.js';

// The cropper is only needed once a picture is picked; a failed load resolves undefined (and says so).
const cropImage = lazy(() => import('../crop/crop-dialog.js'), 'cropImage');

export function openSettings(controller) {
  openPanel('Settings', (body) => {
    const { store, api } = controller;

    function draw() {
      const me = store.get().me;
      const dark = document.documentElement.dataset.theme === 'dark';
      render(body, html`
        <div class="profile-cover" style="${me.coverImage ? `background-image:${cssURL(me.coverImage)}` : ''}">
          <div class="profile-avatar">${avatar(me, { size: 88 })}</div>
        </div>
        <p class="profile-username">${me.username}</p>
        <div class="row-buttons">
          <label class="btn" tabindex="0" data-pick>Change photo<input type="file" accept="image/jpeg,image/png,image/webp" data-image="profile-image" hidden></label>
          ${me.profileImage ? html`<button type="button" class="btn" data-remove="profile-image">Remove photo</button>` : ''}
          <label class="btn" tabindex="0" data-pick>Change cover<input type="file" accept="image/jpeg,image/png,image/webp" data-image="cover-image" hidden></label>
          ${me.coverImage ? html`<button type="button" class="btn" data-remove="cover-image">Remove cover</button>` : ''}
        </div>
        <form data-profile class="stack">
          <label class="field"><span>Display name</span><input name="displayName" value="${me.displayName}" maxlength="50" required></label>
          <label class="field"><span>First name</span><input name="firstName" value="${me.firstName ?? ''}" maxlength="50"></label>
          <label class="field"><span>Last name</span><input name="lastName" value="${me.lastName ?? ''}" maxlength="50"></label>
          <label class="field"><span>Bio</span><textarea name="bio" maxlength="160" rows="2" placeholder="A line about you, shown on your profile">${me.bio ?? ''}</textarea></label>
          <p class="form-error" role="alert" hidden></p>
          <button type="submit" class="btn btn-primary">Save profile</button>
        </form>
        <h3>Privacy</h3>
        <label class="switch"><input type="checkbox" data-online ${me.showOnlineStatus ? 'checked' : ''}> Show when I am online</label>
        <label class="switch"><input type="checkbox" data-ghost ${store.get().settings.ghost ? 'checked' : ''}> Ghost typing: let people see what I type before I send it</label>
        <h3>Notifications</h3>
        <div data-notifications></div>
        <h3>Appearance</h3>
        <label class="switch"><input type="checkbox" data-dark ${dark ? 'checked' : ''}> Dark theme</label>
        <h3>Two-factor authentication</h3>
        <div data-2fa>${me.twoFactorEnabled
          ? html`<p>Two-factor authentication is <strong>on</strong>.</p><button type="button" class="btn" data-2fa-disable>Turn off</button>`
          : html`<p>Protect your account with an authenticator app.</p><button type="button" class="btn" data-2fa-setup>Set up</button>`}</div>
        <h3>Developer</h3>
        <p class="hint">Every socket event in and out, presence switches and a form to emit events by hand.</p>
        <a class="btn" href="#/lab" data-open-lab>Open the Test Lab</a>
        <h3>Account</h3>
        <button type="button" class="btn btn-danger" data-logout>Sign out</button>`);
      body.querySelector('[data-online]').checked = me.showOnlineStatus;
      body.querySelector('[data-ghost]').checked = !!store.get().settings.ghost;
      body.querySelector('[data-dark]').checked = dark;
      drawNotifications();
    }

    function drawNotifications() {
      const { supported, permission, enabled, previews } = push.state();
      const blocked = !supported || permission === 'denied';
      const hint = !supported ? 'This browser cannot show notifications from Chatr.'
        : permission === 'denied' ? 'Notifications are blocked for this site. Allow them in the browser’s site settings, then turn this on.'
          : 'New messages show up as notifications while Chatr is closed. Muted chats stay quiet.';
      const open = notifier.preferences();
      const desktopBlocked = open.permission === 'unsupported' || open.permission === 'denied';
      const openHint = open.permission === 'unsupported' ? 'This browser cannot show desktop notifications.'
        : open.permission === 'denied' ? 'Desktop notifications are blocked for this site in the browser’s site settings.'
          : 'While Chatr is open: new messages in other chats (or any chat while the tab is in the background).';
      render(body.querySelector('[data-notifications]'), html`
        <label class="switch"><input type="checkbox" data-push aria-describedby="push-hint" ${enabled ? 'checked' : ''} ${blocked ? 'disabled' : ''}> Notifications on this device</label>
        <label class="switch"><input type="checkbox" data-push-previews ${previews ? 'checked' : ''} ${blocked ? 'disabled' : ''}> Show message text in notifications</label>
        <p class="hint" id="push-hint" data-push-hint>${hint}</p>
        <label class="switch"><input type="checkbox" data-desktop-notifications aria-describedby="desktop-hint" ${open.desktop ? 'checked' : ''} ${desktopBlocked ? 'disabled' : ''}> Desktop notifications</label>
        <label class="switch"><input type="checkbox" data-sound aria-describedby="desktop-hint" ${open.sound ? 'checked' : ''}> Sound</label>
        <p class="hint" id="desktop-hint">${openHint} Muted chats stay quiet.</p>`);
    }

    body.addEventListener('submit', async (e) => {
      if (!e.target.matches('[data-profile]')) return;
      e.preventDefault();
      const error = e.target.querySelector('.form-error');
      const f = Object.fromEntries(new FormData(e.target));
      try {
        // An empty bio clears it (the server squeezes spaces and counts at most 160 characters).
        await controller.updateProfile({ displayName: f.displayName, firstName: f.firstName || null, lastName: f.lastName || null, bio: f.bio.trim() });
        toast('Profile saved', 'success');
        error.hidden = true;
      } catch (err) { error.textContent = err.message; error.hidden = false; }
    });

    // The file inputs are hidden inside their labels: the labels take the keyboard's Enter and Space.
    body.addEventListener('keydown', (e) => {
      const pick = e.target.closest?.('[data-pick]');
      if (pick && (e.key === 'Enter' || e.key === ' ')) { e.preventDefault(); pick.querySelector('input[type=file]').click(); }
    });
    body.addEventListener('change', async (e) => {
      const t = e.target;
      try {
        if (t.matches('[data-online]')) {
          await controller.updateProfile({ showOnlineStatus: t.checked });
          toast(t.checked ? 'People can see when you are online' : 'You appear offline to everyone');
        }
        if (t.matches('[data-ghost]')) {
          localStorage.setItem('chatr.ghost', t.checked ? '1' : '0');
          store.update({ settings: { ...store.get().settings, ghost: t.checked } });
        }
        if (t.matches('[data-dark]')) setTheme(t.checked ? 'dark' : 'light');
        if (t.matches('[data-push]')) {
          t.disabled = true;   // the permission prompt and the requests take a moment: no second click
          if (t.checked) await push.enable(api);
          else await push.disable(api);
          toast(t.checked ? 'Notifications are on for this device' : 'Notifications are off for this device', t.checked ? 'success' : 'info');
          drawNotifications();
        }
        if (t.matches('[data-desktop-notifications]')) {
          t.disabled = true;   // while the browser asks for the permission: no second click
          if (t.checked) await notifier.enableDesktop();
          else notifier.disableDesktop();
          toast(t.checked ? 'Desktop notifications are on' : 'Desktop notifications are off', t.checked ? 'success' : 'info');
          drawNotifications();
        }
        if (t.matches('[data-sound]')) notifier.setSound(t.checked);
        if (t.matches('[data-push-previews]')) {
          // One change at a time: two quick posts could reach the server in either order.
          t.disabled = true;
          try {
            await push.setPreviews(api, t.checked);
          } finally {
            t.disabled = false;
          }
          toast(t.checked ? 'Notifications show the message text' : 'Notifications only say that a message came');
        }
        if (t.matches('[data-image]') && t.files[0]) {
          const field = t.dataset.image === 'profile-image' ? 'profileImage' : 'coverImage';
          const cropped = await cropImage(t.files[0], field === 'profileImage' ? 'photo' : 'cover');
          t.value = '';   // picking the same file again after a Cancel opens the cropper again
          if (!cropped) return;
          const form = new FormData();
          form.append(field, cropped, `${t.dataset.image}.jpg`);
          const result = await api.post(`/api/users/${t.dataset.image}`, form);
          controller.setMe({ [field]: result[field] });
          toast('Image updated', 'success');
          draw();
        }
      } catch (err) { toast(err.message, 'error'); draw(); }
    });

    body.addEventListener('click', async (e) => {
      // The Test Lab takes the whole window: the panels close as it opens.
      if (e.target.closest('[data-open-lab]')) { closeAllPanels(); return; }
      const t = e.target.closest('button');
      if (!t) return;
      try {
        if (t.dataset.remove) {
          const field = t.dataset.remove === 'profile-image' ? 'profileImage' : 'coverImage';
          if (!(await confirmDialog({ title: 'Remove image?', message: 'It will be deleted.', confirmLabel: 'Remove', danger: true }))) return;
          await api.delete(`/api/users/${t.dataset.remove}`);
          controller.setMe({ [field]: null });
          draw();
        }
        if ('2faSetup' in t.dataset) await setupTwoFactor(controller, body.querySelector('[data-2fa]'), draw);
        if ('2faDisable' in t.dataset) {
          const token = await promptDialog({ title: 'Turn off two-factor authentication', label: 'Code from your authenticator app', confirmLabel: 'Turn off' });
          if (!token) return;
          await api.post('/api/auth/2fa/disable', { token });
          controller.setMe({ twoFactorEnabled: false });
          toast('Two-factor authentication is off');
          draw();
        }
        if ('logout' in t.dataset) {
          if (!(await confirmDialog({ title: 'Sign out?', message: 'You will stop receiving messages on this device.', confirmLabel: 'Sign out' }))) return;
          closeAllPanels();
          await controller.signOut();
        }
      } catch (err) { toast(err.message, 'error'); }
    });

    draw();
    const unsubscribe = store.subscribe((_, changed) => { if (changed.has('me') && !body.contains(document.activeElement)) draw(); });
    return unsubscribe;
  });
}

async function setupTwoFactor(controller, box, redraw) {
  const { secret, qrCode } = await controller.api.post('/api/auth/2fa/setup');
  render(box, html`
    <p>Scan this with Google Authenticator, Authy or 1Password, then enter the code it shows.</p>
    <img class="qr" src="${safeURL(qrCode)}" alt="QR code for your authenticator app" width="200" height="200">
    <p class="muted">Or enter this key: <code data-secret>${secret}</code></p>
    <form data-2fa-verify class="stack">
      <label class="field"><span>Code</span><input name="token" inputmode="numeric" maxlength="6" autocomplete="one-time-code" required></label>
      <p class="form-error" role="alert" hidden></p>
      <button type="submit" class="btn btn-primary">Turn on</button>
    </form>`);
  box.querySelector('input').focus();
  box.querySelector('form').addEventListener('submit', async (e) => {
    e.preventDefault();
    e.stopPropagation();
    const error = box.querySelector('.form-error');
    try {
      await controller.api.post('/api/auth/2fa/verify', { token: new FormData(e.target).get('token') });
      controller.setMe({ twoFactorEnabled: true });
      toast('Two-factor authentication is on', 'success');
      redraw();
    } catch (err) { error.textContent = err.message; error.hidden = false; }
  });
}
