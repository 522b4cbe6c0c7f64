// Group info: name and description (owner/admin edit), invite links (owners and admins make,
// copy and revoke them; a group's id lets nobody in), members with roles, add and remove people,
// leave, delete.
import { html, render } from '../../lib/html.js';
import { query } from '../../lib/api.js';
import { openPanel, closePanel } from '../panel/panel.js';
import { confirmDialog } from '../dialog/dialog.js';
import { toast } from '../toast/toast.js';
import { avatar, presenceOf } from '../common/avatar.js';
import { openProfile } from '../profile/profile.js';
import { plural } from '../../lib/plural.js';

// What the "Create invite link" choices send: '' leaves the field out (never expires, unlimited).
const EXPIRY_CHOICES = [['', 'Never'], ['24', '1 day'], ['168', '7 days']];
const USES_CHOICES = [['', 'Unlimited'], ['1', '1 use'], ['10', '10 uses']];

/** "Expires 3 May, 14:00 · 2 of 10 uses": what a link still allows, under it in the list. */
export function inviteTerms(invite) {
  const expiry = invite.expiresAt
    ? `Expires ${new Date(invite.expiresAt).toLocaleString([], { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' })}`
    : 'Never expires';
  const uses = invite.maxUses == null
    ? `unlimited uses${invite.uses ? ` (${invite.uses} used)` : ''}`
    : `${invite.uses} of ${plural(invite.maxUses, 'use')}`;
  return `${expiry} · ${uses}`;
}

/** Copies text; where the clipboard is refused (no permission, an unfocused or insecure page), the
 *  text is selected on screen instead so a person can copy it themselves. */
async function copyOrSelect(text, element) {
  try {
    await navigator.clipboard.writeText(text);
    toast('Link copied', 'success');
  } catch {
    getSelection().selectAllChildren(element);
    toast('Link selected: copy it with Ctrl+C (⌘C on a Mac)');
  }
}

export function openGroupInfo(controller, groupId) {
  const { api, store } = controller;
  const panel = openPanel('Group info', (body) => {
    let group = null;
    let gone = false;   // left or deleted: the group's events that follow must not ask for it (a 403)
    let found = [];
    let invites = [];
    // The create choices survive the redraws a live group event causes while someone picks them.
    const choice = { expiresInHours: '', maxUses: '' };

    const canManage = () => group.myRole === 'owner' || group.myRole === 'admin';

    async function load() {
      if (gone) return;
      try {
        group = await api.get(`/api/groups/${groupId}`);
        // Members who share no other conversation with me: nobody has said whether they are online.
        controller.requestPresence((group.members ?? []).map((m) => m.user.id));
        // Only owners and admins may list the links (403 for anyone else). A list that fails to
        // load is said so in its place; the rest of the panel still works.
        invites = canManage() ? await api.get(`/api/groups/${groupId}/invites`).then((r) => r.invites, () => null) : [];
        draw();
      } catch (err) { toast(err.message, 'error'); closePanel(panel); }
    }

    function inviteSection() {
      if (!canManage()) {
        return html`<h3>Invite links</h3><p class="hint" data-invite-hint>Only the owner and admins can make invite links: ask an admin for one.</p>`;
      }
      const options = (choices, selected) => choices.map(([value, label]) => html`<option value="${value}" ${value === selected ? 'selected' : ''}>${label}</option>`);
      return html`
        <section class="invites" data-invites aria-labelledby="invites-title">
          <h3 id="invites-title">Invite links</h3>
          <form data-invite-form class="invite-form">
            <label class="field"><span>Expires</span><select name="expiresInHours">${options(EXPIRY_CHOICES, choice.expiresInHours)}</select></label>
            <label class="field"><span>Uses</span><select name="maxUses">${options(USES_CHOICES, choice.maxUses)}</select></label>
            <button type="submit" class="btn btn-primary" data-create-invite>Create invite link</button>
          </form>
          ${invites === null ? html`<p class="form-error" role="alert">The invite links could not be loaded.</p>`
          : invites.length ? html`<ul class="invite-list">${invites.map((invite) => html`
            <li data-invite="${invite.token}">
              <code data-invite-url>${invite.url}</code>
              <span class="hint" id="invite-terms-${invite.token}" data-invite-terms>${inviteTerms(invite)}</span>
              <span class="row-buttons">
                <button type="button" class="btn btn-small" data-copy="${invite.token}" aria-label="Copy invite link" aria-describedby="invite-terms-${invite.token}">Copy</button>
                <button type="button" class="btn btn-small btn-danger" data-revoke="${invite.token}" aria-label="Revoke invite link" aria-describedby="invite-terms-${invite.token}">Revoke</button>
              </span>
            </li>`)}</ul>`
          : html`<p class="hint" data-no-invites>No invite links yet: people can join only when added.</p>`}
        </section>`;
    }

    /** Only the dots: a full redraw would wipe what is being typed in the panel's fields. */
    function redrawPresence() {
      for (const dot of body.querySelectorAll('[data-member-presence]')) {
        const { status } = presenceOf({ id: dot.dataset.memberPresence }, store.get().presence);
        dot.className = `presence-dot presence-${status}`;
        dot.title = status;
      }
    }

    function draw() {
      const me = store.get().me;
      const manage = canManage();
      render(body, html`
        <div class="group-head">${avatar(group, { group: true, size: 72 })}</div>
        ${manage ? html`<form data-edit class="stack">
            <label class="field"><span>Name</span><input name="name" value="${group.name}" maxlength="100" required></label>
            <label class="field"><span>Description</span><textarea name="description" maxlength="500" rows="2">${group.description ?? ''}</textarea></label>
            <button type="submit" class="btn">Save</button></form>`
          : html`<h3>${group.name}</h3><p>${group.description ?? ''}</p>`}
        ${inviteSection()}
        <h3>${plural(group.memberCount, 'member')}</h3>
        ${manage ? html`<label class="field"><span>Add people</span><input type="text" role="searchbox" data-add-search placeholder="Search by name" autocomplete="off"></label>
          <div class="pick-list">${found.map((u) => html`<button type="button" class="conversation" data-add="${u.id}">${avatar(u, { size: 32 })}
            <span class="conversation-text"><span class="conversation-name">${u.displayName}</span><span class="conversation-preview">${u.username}</span></span><span>Add</span></button>`)}</div>` : ''}
        <ul class="members">${(group.members ?? []).map(({ user, role }) => html`
          <li>${avatar(user, { size: 32, status: presenceOf(user, store.get().presence).status, statusFor: user.id })}
            <button type="button" class="member-name link-plain" data-profile="${user.id}">${user.displayName} <small>${user.username}</small></button>
            ${role !== 'member' ? html`<span class="role">${role}</span>` : ''}
            ${manage && user.id !== me.id && role !== 'owner' ? html`<button type="button" class="btn btn-small" data-remove="${user.id}" data-name="${user.displayName}">Remove</button>` : ''}
          </li>`)}</ul>
        <div class="row-buttons">
          <button type="button" class="btn btn-danger" data-leave>Leave group</button>
          ${group.myRole === 'owner' ? html`<button type="button" class="btn btn-danger" data-delete>Delete group</button>` : ''}
        </div>`);
    }

    let timer;
    body.addEventListener('input', (e) => {
      if (!e.target.matches('[data-add-search]')) return;
      clearTimeout(timer);
      const q = e.target.value.trim();
      timer = setTimeout(async () => {
        const ids = new Set((group.members ?? []).map((m) => m.user.id));
        found = q ? (await api.get(`/api/users/search${query({ q })}`).catch(() => ({ users: [] }))).users.filter((u) => !ids.has(u.id)) : [];
        draw();
        const input = body.querySelector('[data-add-search]');
        input.value = q;
        input.focus();
      }, 200);
    });

    body.addEventListener('change', (e) => {
      if (e.target.closest('[data-invite-form]')) choice[e.target.name] = e.target.value;
    });

    body.addEventListener('submit', async (e) => {
      e.preventDefault();
      const f = Object.fromEntries(new FormData(e.target));
      if (e.target.matches('[data-invite-form]')) { await createInvite(f); return; }
      try {
        group = { ...group, ...(await api.put(`/api/groups/${groupId}`, { name: f.name.trim(), description: f.description.trim() })) };
        toast('Group updated', 'success');
        await load();
      } catch (err) { toast(err.message, 'error'); }
    });

    /** Left out, a field means never / unlimited. */
    async function createInvite(f) {
      const terms = {};
      if (f.expiresInHours) terms.expiresInHours = Number(f.expiresInHours);
      if (f.maxUses) terms.maxUses = Number(f.maxUses);
      try {
        await api.post(`/api/groups/${groupId}/invites`, terms);
        toast('Invite link created', 'success');
        await load();
      } catch (err) { toast(err.message, 'error'); }
    }

    body.addEventListener('click', async (e) => {
      const t = e.target.closest('button');
      if (!t) return;
      try {
        if (t.dataset.profile) openProfile(controller, group.members.find((m) => m.user.id === t.dataset.profile).user);
        if (t.dataset.copy) {
          const url = invites?.find((i) => i.token === t.dataset.copy)?.url;
          if (url) await copyOrSelect(url, t.closest('[data-invite]').querySelector('[data-invite-url]'));
        }
        if (t.dataset.revoke && await confirmDialog({ title: 'Revoke invite link?', message: 'Nobody can join with it any more. People who already joined stay in the group.', confirmLabel: 'Revoke', danger: true })) {
          // Revoked meanwhile elsewhere (404) is revoked all the same: the list is drawn again either way.
          await api.delete(`/api/groups/${groupId}/invites/${encodeURIComponent(t.dataset.revoke)}`)
            .then(() => toast('Invite link revoked'), (err) => { if (err.status !== 404) throw err; });
          await load();
        }
        if (t.dataset.add) { await api.post(`/api/groups/${groupId}/members`, { userId: t.dataset.add }); found = []; await load(); }
        if (t.dataset.remove && await confirmDialog({ title: 'Remove member?', message: `${t.dataset.name} will leave the group.`, confirmLabel: 'Remove', danger: true })) {
          await api.delete(`/api/groups/${groupId}/members/${t.dataset.remove}`);
          await load();
        }
        if ('leave' in t.dataset && await confirmDialog({ title: 'Leave group?', message: `You will stop receiving messages from ${group.name}.`, confirmLabel: 'Leave', danger: true })) {
          gone = true;
          await api.post(`/api/groups/${groupId}/leave`).catch((err) => { gone = false; throw err; });
          closePanel(panel);
          controller.closeChat();
          await controller.loadConversations();
        }
        if ('delete' in t.dataset && await confirmDialog({ title: 'Delete group?', message: 'The group and its messages are deleted for everyone.', confirmLabel: 'Delete', danger: true })) {
          gone = true;
          await api.delete(`/api/groups/${groupId}`).catch((err) => { gone = false; throw err; });
          closePanel(panel);
          controller.closeChat();
          await controller.loadConversations();
        }
      } catch (err) { toast(err.message, 'error'); }
    });

    load();
    return store.subscribe((_, changed) => {
      if ((changed.has('groupsVersion') || changed.has('users')) && group) load();
      else if (changed.has('presence') && group) redrawPresence();
    });
  });
}
