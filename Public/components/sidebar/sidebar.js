// The conversation list with search: people found by name start a direct chat.
import { html, render } from '../../lib/html.js';
import { query } from '../../lib/api.js';
import { chatKeyOfConversation, previewText } from '../../lib/messages.js';
import { shortStamp } from '../../lib/time.js';
import { avatar, presenceOf } from '../common/avatar.js';
import { openSettings } from '../settings/settings.js';
import { openNewGroup, joinGroupByLink } from '../groups/new-group.js';
import { toggleTheme } from '../../lib/theme.js';

export function mountSidebar(root, controller) {
  const { store, api } = controller;
  render(root, html`
    <header class="sidebar-header">
      <button type="button" class="icon-btn" data-action="settings" aria-label="Settings and profile" data-me></button>
      <h1 class="brand">Chatr</h1>
      <button type="button" class="icon-btn" data-action="theme" aria-label="Toggle dark theme" title="Theme">◐</button>
      <button type="button" class="icon-btn" data-action="new-group" aria-label="New group" title="New group">＋</button>
      <button type="button" class="icon-btn" data-action="join-group" aria-label="Join a group" title="Join a group">⇥</button>
      <a class="icon-btn" href="#/lab" aria-label="Test Lab" title="Test Lab">⚗</a>
    </header>
    <div class="search">
      <input type="search" placeholder="Search people" aria-label="Search people" data-search autocomplete="off">
    </div>
    <nav class="conversation-list" data-list aria-label="Conversation list"></nav>`);
  const list = root.querySelector('[data-list]');
  const meButton = root.querySelector('[data-me]');
  let results = null;

  function drawMe(state) { render(meButton, avatar(state.me, { size: 32 })); }

  function drawList(state) {
    if (results) {
      render(list, results.length === 0 ? html`<p class="empty">No one found.</p>` : html`
        <p class="list-title">People</p>
        ${results.map((user) => html`
          <button type="button" class="conversation" data-user="${user.id}">
            ${avatar(user, { status: presenceOf(user, state.presence).status })}
            <span class="conversation-text"><span class="conversation-name">${user.displayName}</span>
              <span class="conversation-preview">${user.username}</span></span>
          </button>`)}`);
      return;
    }
    if (state.conversations.length === 0) {
      render(list, html`<p class="empty">No conversations yet. Search for someone to start one.</p>`);
      return;
    }
    render(list, html`${state.conversations.map((item) => conversationItem(item, state))}`);
  }

  function conversationItem(item, state) {
    const key = chatKeyOfConversation(item);
    const isGroup = item.kind === 'group';
    const presence = isGroup ? null : presenceOf(item.user, state.presence);
    const typing = Object.values(state.typing[key] ?? {});
    const mine = item.lastMessage?.senderId === state.me.id;
    return html`
      <button type="button" class="conversation ${state.active?.key === key ? 'active' : ''}" data-key="${key}"
        aria-current="${state.active?.key === key ? 'true' : 'false'}">
        ${isGroup ? avatar(item.group, { group: true }) : avatar(item.user, { status: presence.status })}
        <span class="conversation-text">
          <span class="conversation-name">${isGroup ? item.group.name : item.user.displayName}</span>
          <span class="conversation-preview">${typing.length ? html`<em>typing…</em>` : html`${mine ? 'You: ' : ''}${previewText(item.lastMessage)}`}</span>
        </span>
        <span class="conversation-meta">
          <span class="conversation-time">${shortStamp(item.lastMessageAt)}</span>
          ${item.unreadCount ? html`<span class="badge" aria-label="${item.unreadCount} unread">${item.unreadCount}</span>` : ''}
        </span>
      </button>`;
  }

  let searchTimer;
  root.querySelector('[data-search]').addEventListener('input', (e) => {
    clearTimeout(searchTimer);
    const q = e.target.value.trim();
    searchTimer = setTimeout(async () => {
      if (!q) { results = null; drawList(store.get()); return; }
      try { results = (await api.get(`/api/users/search${query({ q })}`)).users; } catch { results = []; }
      drawList(store.get());
    }, 200);
  });

  root.addEventListener('click', (e) => {
    const action = e.target.closest('[data-action]')?.dataset.action;
    if (action === 'settings') openSettings(controller);
    if (action === 'theme') toggleTheme();
    if (action === 'new-group') openNewGroup(controller);
    if (action === 'join-group') joinGroupByLink(controller);
    const userButton = e.target.closest('[data-user]');
    if (userButton) {
      const user = results.find((u) => u.id === userButton.dataset.user);
      results = null;
      root.querySelector('[data-search]').value = '';
      controller.openChat({ kind: 'direct', user });
      drawList(store.get());
    }
    const item = e.target.closest('[data-key]');
    if (item) {
      const conversation = store.get().conversations.find((c) => chatKeyOfConversation(c) === item.dataset.key);
      controller.openChat(conversation.kind === 'group' ? { kind: 'group', group: conversation.group } : { kind: 'direct', user: conversation.user });
    }
  });

  drawMe(store.get());
  drawList(store.get());
  // "last seen 5m ago" ages: redraw once a minute.
  const ticker = setInterval(() => drawList(store.get()), 60000);
  const unsubscribe = store.subscribe((state, changed) => {
    if (changed.has('me')) drawMe(state);
    if (['conversations', 'presence', 'active', 'typing'].some((k) => changed.has(k))) drawList(state);
  });
  return () => { unsubscribe(); clearInterval(ticker); };
}
