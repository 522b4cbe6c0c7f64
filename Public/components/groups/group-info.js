// Group info: name and description (owner/admin edit), invite link, members with roles, add and
// remove people, leave, delete.
import { html, render } from '../../lib/html.js';
import { query } from '../../lib/api.js';
import { openPanel, closePanel } from '../panel/panel.js';
import { confirmDialog } from '../dialog/dialog.js';
import { toast } from '../toast/toast.js';
import { avatar, presenceOf } from '../common/avatar.js';
import { openProfile } from '../profile/profile.js';

export function openGroupInfo(controller, groupId) {
  const { api, store } = controller;
  const panel = openPanel('Group info', (body) => {
    let group = null;
    let found = [];

    async function load() {
      try { group = await api.get(`/api/groups/${groupId}`); draw(); } catch (err) { toast(err.message, 'error'); closePanel(panel); }
    }

    function draw() {
      const me = store.get().me;
      const canManage = group.myRole === 'owner' || group.myRole === 'admin';
      const link = `${location.origin}/#/join/${group.id}`;
      render(body, html`
        <div class="group-head">${avatar(group, { group: true, size: 72 })}</div>
        ${canManage ? html`<form data-edit class="stack">
            <label class="field"><span>Name</span><input name="name" value="${group.name}" maxlength="100" required></label>
            <label class="field"><span>Description</span><textarea name="description" maxlength="500" rows="2">${group.description ?? ''}</textarea></label>
            <button type="submit" class="btn">Save</button></form>`
          : html`<h3>${group.name}</h3><p>${group.description ?? ''}</p>`}
        <h3>Invite link</h3>
        <p class="invite"><code data-invite>${link}</code> <button type="button" class="btn" data-copy>Copy</button></p>
        <h3>${group.memberCount} members</h3>
        ${canManage ? html`<label class="field"><span>Add people</span><input type="search" data-add-search placeholder="Search by name" autocomplete="off"></label>
          <div class="pick-list">${found.map((u) => html`<button type="button" class="conversation" data-add="${u.id}">${avatar(u, { size: 32 })}
            <span class="conversation-text"><span class="conversation-name">${u.displayName}</span><span class="conversation-preview">${u.username}</span></span><span>Add</span></button>`)}</div>` : ''}
        <ul class="members">${(group.members ?? []).map(({ user, role }) => html`
          <li>${avatar(user, { size: 32, status: presenceOf(user, store.get().presence).status })}
            <button type="button" class="member-name link-plain" data-profile="${user.id}">${user.displayName} <small>${user.username}</small></button>
            ${role !== 'member' ? html`<span class="role">${role}</span>` : ''}
            ${canManage && user.id !== me.id && role !== 'owner' ? html`<button type="button" class="btn btn-small" data-remove="${user.id}" data-name="${user.displayName}">Remove</button>` : ''}
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

    body.addEventListener('submit', async (e) => {
      e.preventDefault();
      const f = Object.fromEntries(new FormData(e.target));
      try {
        group = { ...group, ...(await api.put(`/api/groups/${groupId}`, { name: f.name.trim(), description: f.description.trim() })) };
        toast('Group updated', 'success');
        await load();
      } catch (err) { toast(err.message, 'error'); }
    });

    body.addEventListener('click', async (e) => {
      const t = e.target.closest('button');
      if (!t) return;
      try {
        if (t.dataset.profile) openProfile(controller, group.members.find((m) => m.user.id === t.dataset.profile).user);
        if ('copy' in t.dataset) { await navigator.clipboard?.writeText(body.querySelector('[data-invite]').textContent); toast('Link copied'); }
        if (t.dataset.add) { await api.post(`/api/groups/${groupId}/members`, { userId: t.dataset.add }); found = []; await load(); }
        if (t.dataset.remove && await confirmDialog({ title: 'Remove member?', message: `${t.dataset.name} will leave the group.`, confirmLabel: 'Remove', danger: true })) {
          await api.delete(`/api/groups/${groupId}/members/${t.dataset.remove}`);
          await load();
        }
        if ('leave' in t.dataset && await confirmDialog({ title: 'Leave group?', message: `You will stop receiving messages from ${group.name}.`, confirmLabel: 'Leave', danger: true })) {
          await api.post(`/api/groups/${groupId}/leave`);
          closePanel(panel);
          controller.closeChat();
          await controller.loadConversations();
        }
        if ('delete' in t.dataset && await confirmDialog({ title: 'Delete group?', message: 'The group and its messages are deleted for everyone.', confirmLabel: 'Delete', danger: true })) {
          await api.delete(`/api/groups/${groupId}`);
          closePanel(panel);
          controller.closeChat();
          await controller.loadConversations();
        }
      } catch (err) { toast(err.message, 'error'); }
    });

    load();
    return store.subscribe((_, changed) => { if (changed.has('groupsVersion') && group) load(); });
  });
}
