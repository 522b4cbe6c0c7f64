// The open conversation: header with presence/typing and the mute switch, the message list with
// infinite scroll back through history, ghost text, and the composer.
//
// Where the list stands: a chat opens at its newest message, or at the first message that was
// unread (under a "New messages" marker) when there is more to read than fits. While the reader
// is at the bottom the list stays pinned there — through redraws, images loading, the list being
// resized (a phone shows the chat, the keyboard opens) — and their own send always goes there.
// Scrolled up, nothing moves: a message that arrives shows a "New messages ↓" button instead.
import { html, render } from '../../lib/html.js';
import { avatar, presenceOf } from '../common/avatar.js';
import { messageList } from './message-view.js';
import { mountComposer } from './composer.js';
import { attachAudioPlayer } from './audio-player.js';
import { lazy } from '../../lib/lazy.js';
import { toast } from '../toast/toast.js';
import { chatKeyOfConversation, isMuted } from '../../lib/messages.js';
import { plural } from '../../lib/plural.js';
import { messagesSkeleton, setBusy } from '../../lib/skeleton.js';

// Loaded when first opened, not with the app (the first load's budget, docs/PERFORMANCE.md).
const openGroupInfo = lazy(() => import('../groups/group-info.js'), 'openGroupInfo');
const openProfile = lazy(() => import('../profile/profile.js'), 'openProfile');
const openLightbox = lazy(() => import('../lightbox/lightbox.js'), 'openLightbox');
const openMessageMenu = lazy(() => import('./message-menu.js'), 'openMessageMenu');
const showEditHistory = lazy(() => import('./message-menu.js'), 'showEditHistory');

export function mountChatView(root, controller) {
  const { store } = controller;
  let mountedKey = null;
  let unmountComposer = () => {};
  let player = null;
  let muting = false;
  let pinned = true;          // the view follows the newest message
  let pinnedTop = 0;          // scrollTop when it was last put at the bottom
  let positioned = false;     // the first loaded page has been placed (at the bottom or at the marker)
  let unreadFrom;             // the first unread message's id when the chat opened (undefined: not known yet)
  let newestSeen = null;      // {key, at} of the newest message drawn so far
  let resizeObserver = null;
  const awaitedCards = new Set();   // links whose card is on its way (one redraw each when it comes)

  function drawEmpty() {
    render(root, html`<div class="chat-empty"><p>Select a conversation or search for someone to start chatting.</p></div>`);
  }

  function mount(state) {
    unmountComposer();
    player?.stop();
    mountedKey = state.active?.key ?? null;
    if (!state.active) { drawEmpty(); return; }
    // The list is a log but not a live region: it is redrawn whole, and a screen reader would read
    // it again on every change. New messages are announced once by the shell's polite region.
    render(root, html`
      <header class="chat-header">
        <button type="button" class="icon-btn back" data-action="back" aria-label="Back to conversations" title="Back to conversations">←</button>
        <button type="button" class="chat-title" data-action="info" data-chat-title title="Profile and chat details"></button>
        <div class="chat-actions" data-chat-actions></div>
      </header>
      <div class="messages-wrap">
        <div class="messages" data-messages role="log" aria-live="off" aria-label="Messages" tabindex="-1"></div>
        <button type="button" class="new-below" data-action="to-bottom" data-new-below hidden>New messages ↓</button>
      </div>
      <div class="ghost-text" data-ghost aria-live="polite" hidden></div>
      <div data-composer></div>`);
    pinned = true;
    positioned = false;
    unreadFrom = undefined;
    newestSeen = null;
    unmountComposer = mountComposer(root.querySelector('[data-composer]'), controller);
    const list = root.querySelector('[data-messages]');
    player = attachAudioPlayer(list, controller);
    // A list that changes size (shown on a phone, the composer grows, the connection strip comes
    // and goes) keeps its newest message in view.
    resizeObserver?.disconnect();
    resizeObserver = new ResizeObserver(() => { if (stillPinned(list)) toBottom(list); });
    resizeObserver.observe(list);
    drawHeader(state);
    drawMessages(state, { toBottom: true });
    drawGhost(state);
  }

  function toBottom(list = root.querySelector('[data-messages]')) {
    if (!list) return;
    list.scrollTop = list.scrollHeight;
    pinnedTop = list.scrollTop;
    pinned = true;
    showNewBelow(false);
  }

  /** Pinned, unless the reader has scrolled up since (the scroll event may not have come yet); a
   *  list that grew taller moves scrollTop up by itself, but is still at the bottom. */
  function stillPinned(list) {
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight <= 2;
    if (pinned && list.scrollTop < pinnedTop - 2 && !atBottom) pinned = false;
    return pinned;
  }

  function showNewBelow(show) {
    const button = root.querySelector('[data-new-below]');
    if (button) button.hidden = !show;
  }

  /**
   * The first message from someone else not read yet: where the "New messages" marker goes.
   * When even the oldest loaded message is unread and there are earlier ones, where the unread
   * ones begin is not known: no marker, the chat opens at its newest message.
   */
  function firstUnread(chat) {
    const index = chat.messages.findIndex((m) => m.id && !m.pending && m.senderId !== store.get().me.id && !m.isRead);
    if (index === -1 || (index === 0 && chat.hasMore)) return null;
    return chat.messages[index].id;
  }

  function drawHeader(state) {
    const { active } = state;
    const title = root.querySelector('[data-chat-title]');
    const typing = Object.values(state.typing[active.key] ?? {});
    const recording = Object.values(state.recording[active.key] ?? {});
    if (active.kind === 'group') {
      const item = state.conversations.find((c) => c.group?.id === active.group.id);
      const group = item?.group ?? active.group;
      const subtitle = recording.length ? `${recording.join(', ')} recording…` : typing.length ? `${typing.join(', ')} typing…` : group.memberCount == null ? '' : plural(group.memberCount, 'member');
      render(title, html`${avatar(group, { group: true, size: 36 })}<span><span class="chat-name">${group.name}</span><span class="chat-sub" data-chat-sub>${subtitle}</span></span>`);
    } else {
      const user = active.user;
      const presence = presenceOf(user, state.presence);
      const subtitle = recording.length ? 'recording a voice message…' : typing.length ? 'typing…' : presence.text;
      render(title, html`${avatar(user, { size: 36, status: presence.status })}<span><span class="chat-name">${user.displayName}</span><span class="chat-sub" data-chat-sub>${subtitle}</span></span>`);
    }
    drawActions(state);
  }

  /** Mute: only once the server knows the conversation (a new direct chat has none before its first message). */
  function drawActions(state) {
    const box = root.querySelector('[data-chat-actions]');
    const item = state.conversations.find((c) => chatKeyOfConversation(c) === state.active.key);
    if (!item) { render(box, html``); return; }
    const muted = isMuted(item);
    const label = muted ? 'Unmute notifications' : 'Mute notifications';
    const drawn = box.querySelector('[data-action=mute]');
    // Redrawn only when it changes: the header redraws on every typing and presence event.
    if (drawn && drawn.dataset.muted === String(muted) && drawn.dataset.conversation === item.conversationId) return;
    const hadFocus = !!drawn && drawn === document.activeElement;
    render(box, html`<button type="button" class="icon-btn" data-action="mute" data-conversation="${item.conversationId}" data-muted="${String(muted)}"
      aria-label="${label}" title="${label}">${muted ? '🔕' : '🔔'}</button>`);
    if (hadFocus) box.querySelector('button').focus();
  }

  function drawMessages(state, { toBottom: goDown = false, keepFromBottom = null } = {}) {
    const list = root.querySelector('[data-messages]');
    const { active } = state;
    const chat = controller.chat(active.key);
    // The first page on its way: placeholder bubbles, not a blank list (nothing to place or play yet).
    const firstPageLoading = !chat.loaded && !chat.loadFailed && chat.messages.length === 0;
    setBusy(list, firstPageLoading);
    if (firstPageLoading) { render(list, messagesSkeleton('Loading messages…')); return; }
    const top = list.scrollTop;
    stillPinned(list);
    // Known once the first page is here; kept for as long as the chat stays open.
    if (unreadFrom === undefined && chat.loaded) unreadFrom = firstUnread(chat);
    // A message newer than any drawn before has arrived (pages of older ones, or those filling
    // the gap after a search hit, are not news). One of mine not stored yet is news whatever
    // this device's clock says.
    const newest = chat.messages[chat.messages.length - 1];
    const newestKey = newest ? newest.clientMessageId || newest.id : null;
    const fresh = !!newest && (newestSeen === null
      || (newestKey !== newestSeen.key && (newest.createdAt > newestSeen.at || !newest.id)));
    const arrived = fresh && newestSeen !== null;
    if (fresh) newestSeen = { key: newestKey, at: newestSeen && newestSeen.at > newest.createdAt ? newestSeen.at : newest.createdAt };
    const names = (slice) => Object.entries(state[slice][active.key] ?? {}).filter(([id]) => id !== state.me.id).map(([, name]) => name);
    render(list, messageList(chat.messages, {
      me: state.me, isGroup: active.kind === 'group', hasMore: chat.hasMore, typingNames: names('typing'), recordingNames: names('recording'),
      unreadFrom, cardOf: (url) => controller.linkPreviews.peek(url),
    }));
    fetchCards(list, active.key);
    if (keepFromBottom !== null) list.scrollTop = list.scrollHeight - keepFromBottom;
    else if (!positioned && chat.loaded && chat.messages.length) { positioned = true; openAtMarker(list) || toBottom(list); }
    else if (goDown || pinned || (arrived && newest.senderId === state.me.id)) toBottom(list);
    else {
      list.scrollTop = top;
      if (arrived) showNewBelow(true);
    }
    showHighlight(state, false);
    player.refresh();
  }

  /** Links whose card is not known yet: fetched (once per link), and the list redrawn when one has a card. */
  function fetchCards(list, key) {
    const urls = new Set([...list.querySelectorAll('[data-link-slot]')].map((slot) => slot.dataset.linkSlot));
    for (const url of urls) {
      if (awaitedCards.has(url)) continue;
      awaitedCards.add(url);
      controller.linkPreviews.get(url).then((card) => {
        awaitedCards.delete(url);
        if (card && store.get().active?.key === key && mountedKey === key) drawMessages(store.get());
      });
    }
  }

  /** Opens at the marker when the unread messages are more than the view shows below it. */
  function openAtMarker(list) {
    const marker = list.querySelector('[data-unread-marker]');
    if (!marker) return false;
    const at = list.scrollTop + marker.getBoundingClientRect().top - list.getBoundingClientRect().top - 8;
    if (at >= list.scrollHeight - list.clientHeight) return false;
    list.scrollTop = at;
    pinned = false;
    return true;
  }

  /** A message opened from search: marked for a few seconds (kept across redraws), scrolled to once. */
  function showHighlight(state, scroll) {
    const mark = state.highlight;
    if (!mark || mark.key !== state.active?.key || Date.now() - mark.at > 4000) return;
    const element = root.querySelector(`[data-msg="${CSS.escape(mark.id)}"]`);
    if (!element) return;
    element.classList.add('highlighted');
    if (scroll) { pinned = false; element.scrollIntoView({ block: 'center' }); }
  }

  function drawGhost(state) {
    const box = root.querySelector('[data-ghost]');
    const text = state.active.kind === 'direct' ? state.ghost[state.active.key]?.[state.active.user.id] : null;
    box.hidden = !text;
    box.textContent = text ? `${state.active.user.displayName} is typing: ${text}` : '';
  }

  // Infinite scroll: near the top, fetch the previous page and keep the view where it was; near
  // the bottom of a chat opened at a search hit far back, fetch what follows (the view stays:
  // the new messages are below it).
  root.addEventListener('scroll', async (e) => {
    const list = e.target;
    if (!list.matches?.('[data-messages]')) return;
    // The reader's place: at the bottom (within a few pixels) the view follows new messages.
    pinned = list.scrollHeight - list.scrollTop - list.clientHeight < 24;
    if (pinned) { pinnedTop = list.scrollTop; showNewBelow(false); }
    if (list.scrollHeight - list.scrollTop - list.clientHeight < 200 && controller.chat(store.get().active?.key).gapAfter) {
      const top = list.scrollTop;
      try {
        if (await controller.loadNewer()) list.scrollTop = top;
      } catch { toast('Could not load later messages', 'error'); }
      return;
    }
    if (list.scrollTop > 120) return;
    const fromBottom = list.scrollHeight - list.scrollTop;
    try {
      if (await controller.loadOlder()) drawMessages(store.get(), { keepFromBottom: fromBottom });
    } catch { toast('Could not load earlier messages', 'error'); }
  }, true);

  root.addEventListener('click', async (e) => {
    const target = e.target.closest('[data-action], [data-lightbox], [data-menu], [data-react], [data-history], [data-retry], [data-discard]');
    if (!target) return;
    const d = target.dataset;
    const state = store.get();
    if (d.action === 'back') controller.closeChat();
    if (d.action === 'to-bottom') toBottom();
    if (d.action === 'mute' && !muting) {
      const muted = d.muted !== 'true';
      muting = true;   // one request at a time: a double click must not mute and unmute again
      controller.setMuted(d.conversation, muted)
        .then(() => toast(muted ? 'Notifications muted for this chat' : 'Notifications on for this chat'))
        .catch((err) => toast(err.message, 'error'))
        .finally(() => { muting = false; });
    }
    if (d.action === 'info') state.active.kind === 'group' ? openGroupInfo(controller, state.active.group.id) : openProfile(controller, state.active.user);
    if (d.lightbox) openLightbox(d.lightbox, d.caption);
    if (d.menu) openMessageMenu(controller, target, findMessage(d.menu));
    if (d.react) controller.react(d.id, d.react).catch((err) => toast(err.message, 'error'));
    if (d.history) showEditHistory(controller, d.history);
    if (d.retry) controller.retry(d.retry);
    if (d.discard) controller.discard(d.discard);
  });

  // Right-click (or the context-menu key) on a message opens its menu.
  root.addEventListener('contextmenu', (e) => {
    const msg = e.target.closest('[data-msg]');
    if (!msg || !msg.dataset.msg || msg.classList.contains('unsent')) return;
    e.preventDefault();
    openMessageMenu(controller, msg, findMessage(msg.dataset.msg));
  });

  function findMessage(id) {
    return controller.chat(store.get().active.key).messages.find((m) => m.id === id);
  }

  // An image that loads while the view is at the bottom keeps it there (boxes are reserved, but an
  // avatar or a video can still change height).
  root.addEventListener('load', (e) => {
    const list = e.target.closest?.('[data-messages]');
    if (list && stillPinned(list)) toBottom(list);
  }, true);

  mount(store.get());
  const unsubscribe = store.subscribe((state, changed) => {
    if (changed.has('active') && (state.active?.key ?? null) !== mountedKey) { mount(state); return; }
    if (!state.active) return;
    if (changed.has('chats') || changed.has('typing') || changed.has('recording')) drawMessages(state);
    if (changed.has('presence') || changed.has('typing') || changed.has('recording') || changed.has('conversations')) drawHeader(state);
    if (changed.has('ghost')) drawGhost(state);
    if (changed.has('highlight')) showHighlight(state, true);
  });
  return () => { unsubscribe(); unmountComposer(); player?.stop(); resizeObserver?.disconnect(); };
}
