// The conversation list with search: people found by name start a direct chat; messages found
// (GET /api/search) open their conversation at the message, highlighted. Ctrl/Cmd+K or / focus
// the search box; Escape clears it.
import { html, render } from '../../lib/html.js';
import { query } from '../../lib/api.js';
import { chatKeyOfConversation, chatTargetOfConversation, isMuted, isNotice, previewText, unreadLabel } from '../../lib/messages.js';
import { shortStamp } from '../../lib/time.js';
import { avatar, presenceOf } from '../common/avatar.js';
import { lazy } from '../../lib/lazy.js';
import { toggleTheme } from '../../lib/theme.js';
import { toast } from '../toast/toast.js';
import { listSkeleton, setBusy } from '../../lib/skeleton.js';

// Loaded when first opened (they are not needed to read and send messages).
const openSettings = lazy(() => import('../settings/settings.js'), 'openSettings');
const openNewGroup = lazy(() => import('../groups/new-group.js'), 'openNewGroup');
const joinGroupByLink = lazy(() => import('../groups/new-group.js'), 'joinGroupByLink');

// Stores whose conversation list has come from the server: a sidebar mounted again later (another
// route and back) does not wait for it a second time.
const listArrived = new WeakSet();

/** A search snippet: the server gives the matched words as UTF-16 offsets (what JS strings count), never markup. */
function snippetView(snippet) {
  if (!snippet) return '';
  const parts = [];
  let at = 0;
  for (const { start, length } of snippet.highlights) {
    if (start < at) continue;
    parts.push(snippet.text.slice(at, start), html`<mark>${snippet.text.slice(start, start + length)}</mark>`);
    at = start + length;
  }
  parts.push(snippet.text.slice(at));
  return html`${parts}`;
}

export function mountSidebar(root, controller) {
  const { store, api } = controller;
  render(root, html`
    <header class="sidebar-header">
      <button type="button" class="icon-btn" data-action="settings" aria-label="Settings and profile" title="Settings and profile" data-me></button>
      <h1 class="brand">Chatr</h1>
      <button type="button" class="icon-btn" data-action="theme" aria-label="Switch between light and dark theme" title="Switch between light and dark theme">◐</button>
      <button type="button" class="icon-btn" data-action="new-group" aria-label="New group" title="New group">＋</button>
      <button type="button" class="icon-btn" data-action="join-group" aria-label="Join a group" title="Join a group">⇥</button>
    </header>
    <div class="search">
      <input type="text" role="searchbox" enterkeyhint="search" placeholder="Search people and messages" aria-label="Search people and messages" data-search autocomplete="off"
        title="Words, prefix*, &quot;a phrase&quot;, from:@name, in:#group, has:file, before:2026-01-31">
    </div>
    <nav class="conversation-list" data-list aria-label="Conversation list"></nav>`);
  const list = root.querySelector('[data-list]');
  const meButton = root.querySelector('[data-me]');
  let results = null;   // people found, while searching
  let hits = [];        // messages found
  let searchError = null;
  let searching = false; // the newest text's answers are on their way
  // Mounted as the session starts, the list is on its way: placeholder rows until it comes (or the
  // connection is lost). Mounted later, an empty list is really empty.
  let waiting = !listArrived.has(store) && store.get().connection === 'connecting';

  function drawMe(state) { render(meButton, avatar(state.me, { size: 32 })); }

  function drawList(state) {
    setBusy(list, waiting && !results);
    if (results) {
      render(list, html`
        ${results.length ? html`<p class="list-title">People</p>
        ${results.map((user) => html`
          <button type="button" class="conversation" data-user="${user.id}">
            ${avatar(user, { status: presenceOf(user, state.presence).status })}
            <span class="conversation-text"><span class="conversation-name">${user.displayName}</span>
              <span class="conversation-preview">${user.username}</span></span>
          </button>`)}` : ''}
        ${hits.length ? html`<p class="list-title">Messages</p>${hits.map((hit, index) => hitItem(hit, index, state))}` : ''}
        ${!results.length && !hits.length ? html`<p class="empty" data-search-state>${searching ? 'Searching…' : searchError ?? 'Nothing found.'}</p>` : ''}`);
      return;
    }
    if (waiting) {
      render(list, listSkeleton('Loading conversations…'));
      return;
    }
    if (state.conversations.length === 0) {
      render(list, html`<div class="empty empty-state" data-empty-list>
        <p><strong>No conversations yet.</strong> Find someone by their name to send a first message, or start a group.</p>
        <div class="row-buttons">
          <button type="button" class="btn btn-primary" data-action="find-someone">Find someone to chat with</button>
          <button type="button" class="btn" data-action="new-group">New group</button>
        </div>
      </div>`);
      return;
    }
    render(list, html`${state.conversations.map((item) => conversationItem(item, state))}`);
  }

  function hitItem(hit, index, state) {
    const { conversation, message } = hit;
    const isGroup = conversation.kind === 'group';
    const who = message.senderId === state.me.id ? 'You' : message.senderDisplayName;
    return html`
      <button type="button" class="conversation search-hit" data-hit="${index}">
        ${isGroup ? avatar(conversation.group, { group: true }) : avatar(conversation.user, {})}
        <span class="conversation-text">
          <span class="conversation-name">${isGroup ? conversation.group.name : conversation.user?.displayName ?? ''}</span>
          <span class="conversation-preview">${isGroup ? html`${who}: ` : ''}${snippetView(hit.snippet)}</span>
        </span>
        <span class="conversation-meta"><span class="conversation-time">${shortStamp(message.createdAt)}</span></span>
      </button>`;
  }

  /** Who wrote the last message: "You: " for mine, and in a group the sender's name ("Alice: "). */
  function previewAuthor(item, mine) {
    if (!item.lastMessage || isNotice(item.lastMessage)) return '';   // "Alice joined" names its subject
    if (mine) return 'You: ';
    const name = item.kind === 'group' ? (store.get().users?.[item.lastMessage.senderId]?.displayName ?? item.lastMessage.senderDisplayName) : null;
    return name ? `${name}: ` : '';
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
          <span class="conversation-preview">${typing.length ? html`<em>typing…</em>` : html`${previewAuthor(item, mine)}${previewText(item.lastMessage, state.me.id)}`}</span>
        </span>
        <span class="conversation-meta">
          <span class="conversation-time">${shortStamp(item.lastMessageAt)}</span>
          <span class="conversation-marks">
            ${isMuted(item) ? html`<span class="muted-mark" data-muted role="img" aria-label="Notifications muted" title="Notifications muted">🔕</span>` : ''}
            ${item.unreadCount ? html`<span class="badge" aria-label="${unreadLabel(item.unreadCount)} unread">${unreadLabel(item.unreadCount)}</span>` : ''}
          </span>
        </span>
      </button>`;
  }

  let searchTimer;
  let searchRun = 0;
  let searchAbort = null;
  const searchBox = root.querySelector('[data-search]');
  /** Every change of the text retires what was asked or found for the text before. */
  function retireSearch() {
    clearTimeout(searchTimer);
    searchAbort?.abort();
    searchAbort = null;
    return ++searchRun;
  }
  function clearSearch() {
    retireSearch();   // a search still on its way must not draw over the cleared list
    searchBox.value = '';
    results = null;
    hits = [];
    searching = false;
    drawList(store.get());
  }
  searchBox.addEventListener('input', (e) => {
    // Only the newest text may draw: an answer for an earlier one (even one that comes during the
    // pause before this one is asked) is dropped, and the earlier results go at once, so a quick
    // click cannot open something the new text did not find.
    const run = retireSearch();
    const q = e.target.value.trim();
    if (!q) { results = null; hits = []; searching = false; drawList(store.get()); return; }
    results = [];
    hits = [];
    searchError = null;
    searching = true;
    drawList(store.get());
    searchTimer = setTimeout(async () => {
      const abort = new AbortController();
      searchAbort = abort;
      const { signal } = abort;
      const [people, messages] = await Promise.all([
        api.get(`/api/users/search${query({ q })}`, { signal }).then((r) => r.users, () => []),
        api.get(`/api/search${query({ q })}`, { signal }).then((r) => ({ hits: r.results }), (err) => ({ hits: [], error: err.status === 400 ? err.message : null })),
      ]);
      if (run !== searchRun) return;
      searchAbort = null;
      searching = false;
      results = people;
      hits = messages.hits;
      searchError = messages.error ?? null;
      drawList(store.get());
    }, 200);
  });
  searchBox.addEventListener('keydown', (e) => { if (e.key === 'Escape') clearSearch(); });
  const focusSearch = (e) => {
    const typing = e.target.closest?.('input, textarea, [contenteditable="true"]');
    if (((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'k') || (e.key === '/' && !typing)) {
      e.preventDefault();
      searchBox.focus();
      searchBox.select();
    }
  };
  document.addEventListener('keydown', focusSearch);

  root.addEventListener('click', (e) => {
    const action = e.target.closest('[data-action]')?.dataset.action;
    if (action === 'settings') openSettings(controller);
    if (action === 'theme') toggleTheme();
    if (action === 'new-group') openNewGroup(controller);
    if (action === 'find-someone') searchBox.focus();
    if (action === 'join-group') joinGroupByLink(controller);
    const userButton = e.target.closest('[data-user]');
    if (userButton) {
      const user = results.find((u) => u.id === userButton.dataset.user);
      clearSearch();
      controller.openChat({ kind: 'direct', user });
    }
    const hitButton = e.target.closest('[data-hit]');
    if (hitButton) {
      const { conversation, message } = hits[Number(hitButton.dataset.hit)];
      const target = conversation.kind === 'group' ? { kind: 'group', group: conversation.group } : { kind: 'direct', user: conversation.user };
      controller.jumpTo(target, message.id).catch(() => toast('Could not open that message', 'error'));
    }
    const item = e.target.closest('[data-key]');
    if (item) {
      const conversation = store.get().conversations.find((c) => chatKeyOfConversation(c) === item.dataset.key);
      controller.openChat(chatTargetOfConversation(conversation));
    }
  });

  drawMe(store.get());
  drawList(store.get());
  // "last seen 5m ago" ages: redraw once a minute.
  const ticker = setInterval(() => drawList(store.get()), 60000);
  const unsubscribe = store.subscribe((state, changed) => {
    if (changed.has('me')) drawMe(state);
    if (changed.has('conversations')) listArrived.add(store);
    const settled = waiting && (changed.has('conversations') || changed.has('listFailed') || state.connection === 'offline');
    if (settled) waiting = false;
    if (settled || ['conversations', 'presence', 'active', 'typing'].some((k) => changed.has(k))) drawList(state);
  });
  return () => { unsubscribe(); clearInterval(ticker); document.removeEventListener('keydown', focusSearch); };
}
