// Creating a group (name, description, people picked by search) and joining one with an invite
// link an owner or admin made (…/#/join/<token>): a look at the group first, then a confirmation.
import { html, render } from '../../lib/html.js';
import { query } from '../../lib/api.js';
import { openPanel, closePanel } from '../panel/panel.js';
import { confirmDialog, promptDialog } from '../dialog/dialog.js';
import { toast } from '../toast/toast.js';
import { avatar } from '../common/avatar.js';

export function openNewGroup(controller) {
  const picked = new Map();
  let results = [];
  const panel = openPanel('New group', (body) => {
    render(body, html`
      <form data-group-form class="stack">
        <label class="field"><span>Group name</span><input name="name" maxlength="100" required autofocus></label>
        <label class="field"><span>Description</span><textarea name="description" maxlength="500" rows="2"></textarea></label>
        <label class="field"><span>Add people</span><input type="text" role="searchbox" data-people autocomplete="off" placeholder="Search by name"></label>
        <div data-results class="pick-list"></div>
        <div data-picked class="chips"></div>
        <p class="form-error" role="alert" hidden></p>
        <button type="submit" class="btn btn-primary">Create group</button>
      </form>`);
    const draw = () => {
      render(body.querySelector('[data-results]'), html`${results.map((u) => html`
        <button type="button" class="conversation" data-pick="${u.id}">${avatar(u, { size: 32 })}
          <span class="conversation-text"><span class="conversation-name">${u.displayName}</span><span class="conversation-preview">${u.username}</span></span>
          <span>${picked.has(u.id) ? '✓' : '+'}</span></button>`)}`);
      render(body.querySelector('[data-picked]'), html`${[...picked.values()].map((u) => html`
        <button type="button" class="chip" data-unpick="${u.id}" aria-label="Remove ${u.displayName}">${u.displayName} ✕</button>`)}`);
    };
    let timer;
    body.querySelector('[data-people]').addEventListener('input', (e) => {
      clearTimeout(timer);
      const q = e.target.value.trim();
      timer = setTimeout(async () => {
        results = q ? (await controller.api.get(`/api/users/search${query({ q })}`).catch(() => ({ users: [] }))).users : [];
        draw();
      }, 200);
    });
    body.addEventListener('click', (e) => {
      const pick = e.target.closest('[data-pick]');
      const unpick = e.target.closest('[data-unpick]');
      if (pick) {
        const user = results.find((u) => u.id === pick.dataset.pick);
        if (picked.has(user.id)) picked.delete(user.id); else picked.set(user.id, user);
        draw();
      }
      if (unpick) { picked.delete(unpick.dataset.unpick); draw(); }
    });
    body.querySelector('[data-group-form]').addEventListener('submit', async (e) => {
      e.preventDefault();
      const f = Object.fromEntries(new FormData(e.target));
      const error = body.querySelector('.form-error');
      try {
        const group = await controller.api.post('/api/groups', { name: f.name.trim(), description: f.description.trim() || undefined, memberIds: [...picked.keys()] });
        closePanel(panel);
        await controller.loadConversations();
        await controller.openChat({ kind: 'group', group });
        toast(`Group ${group.name} created`, 'success');
      } catch (err) { error.textContent = err.message; error.hidden = false; }
    });
  });
}

const INVALID_LINK = 'This invite link is not valid: it may have been revoked, expired or used up. Ask the group for a new one.';

/** The token in an invite link (…/#/join/<token>) or a bare token; null for anything else. */
export function inviteToken(value) {
  const text = String(value ?? '').trim();
  const token = text.includes('/') ? text.match(/#\/join\/([^/?#\s]+)\/?$/)?.[1] : text;
  return token && /^[^\s/?#]+$/.test(token) ? token : null;
}

/**
 * Join with an invite link or its token (asked for when none is given): the group is shown and
 * the person confirms before any use of the link is counted. Someone already in it just has it
 * opened. The group opens in the list and the chat view either way.
 */
export async function joinGroupByLink(controller, link = null) {
  const value = link ?? await promptDialog({ title: 'Join a group', label: 'Invite link', confirmLabel: 'Continue' });
  if (!value) return;
  const token = inviteToken(value);
  if (!token) { toast('That is not an invite link: it looks like …/#/join/<code>.', 'error'); return; }
  const path = `/api/invites/${encodeURIComponent(token)}`;
  try {
    const invite = await controller.api.get(path);
    let { group } = invite;
    if (!invite.alreadyMember) {
      const members = `${group.memberCount} ${group.memberCount === 1 ? 'member' : 'members'}`;
      const yes = await confirmDialog({
        title: `Join ${group.name} (${members})?`,
        message: `${group.description ? `${group.description} — ` : ''}You will see the messages sent from when you join.`,
        confirmLabel: 'Join',
      });
      if (!yes) return;
      group = await controller.api.post(`${path}/join`);
      toast(`You joined ${group.name}`, 'success');
    }
    await controller.loadConversations();
    await controller.openChat({ kind: 'group', group });
  } catch (err) {
    // 404: unknown, revoked, expired or used up — also when the last use went while confirming.
    toast(err.status === 404 ? INVALID_LINK : err.message, 'error');
  }
}
