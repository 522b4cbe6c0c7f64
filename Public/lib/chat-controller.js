// The client's one place for chat behaviour: REST and socket calls, the offline queue, and the
// state they produce. Views read the store and call these methods; they never talk to the
// server themselves. Incoming socket events are handled in realtime-handlers.js.
import { SocketClient } from './socket.js';
import { OfflineQueue, PermanentError } from './offline-queue.js';
import { IndexedDBStorage } from './idb-storage.js';
import { ApiError, query } from './api.js';
import { mergeMessages, applyStatus, holdStatus, releaseHeld, latestUnreadFromOthers, chatKeyOfConversation, chatTargetOfConversation } from './messages.js';
import { attachRealtimeHandlers } from './realtime-handlers.js';
import { SyncCursor, applyConversationChanges, mergeConversationList, messagesByChat, messagesForChat, removedChats } from './sync.js';
import { computeWaveform } from './waveform.js';
import { LinkPreviews } from './links.js';
import { setUploadPercent, forgetUpload } from './upload-progress.js';

const PAGE = 50;

/** How long an upload may take before it is called failed: 30 s, plus a slow line's time for its size (25 KB/s). */
export function uploadTimeout(bytes) {
  return 30000 + Math.ceil((bytes || 0) / 25);
}

// One outbox storage per page, whoever signs in (entries are kept per user): a second sign-in
// neither opens the database again nor misses what the first kept in memory.
let pageStorage = null;

export class ChatController {
  constructor({ api, store, onSignedOut, storage = (pageStorage ??= new IndexedDBStorage()) }) {
    this.api = api;
    this.store = store;
    this.onSignedOut = onSignedOut;
    this.me = store.get().me;
    this.queue = new OfflineQueue(storage, this.me.id);
    this.socket = new SocketClient(location.origin, { auth: () => ({ token: api.token }) });
    this.cleanups = [];
    this.typingSentAt = 0;
    // Statuses that came before their message (see holdStatus), by message id.
    this.heldStatuses = new Map();
    this.cursor = new SyncCursor(this.me.id);
    // Files being sent or refused, by clientMessageId: what Retry sends again (kept in memory only).
    this.uploads = new Map();
    // Link preview cards, once per link for as long as the page is open (no card when refused).
    this.linkPreviews = new LinkPreviews((url) => this.api.get(`/api/link-preview${query({ url })}`));
  }

  async start() {
    attachRealtimeHandlers(this);
    const onOnline = () => { this.socket.connect(); this.flushQueue(); };
    const onOffline = () => { this.socket.drop('offline'); this.store.update({ connection: 'offline' }); };
    const onVisibility = () => {
      this.socket.emit('presence:update', document.visibilityState === 'visible' ? 'online' : 'away');
      if (document.visibilityState === 'visible') this.markActiveRead();
    };
    // A tab closed or left goes offline at once (and its person gets pushes) instead of when the
    // server's heartbeat gives up on it; a page restored from the back/forward cache reconnects.
    const onPageHide = () => this.socket.disconnect();
    const onPageShow = (event) => { if (event.persisted && !this.stopped) this.socket.connect(); };
    window.addEventListener('online', onOnline);
    window.addEventListener('offline', onOffline);
    document.addEventListener('visibilitychange', onVisibility);
    window.addEventListener('pagehide', onPageHide);
    window.addEventListener('pageshow', onPageShow);
    this.cleanups.push(() => {
      window.removeEventListener('online', onOnline);
      window.removeEventListener('offline', onOffline);
      document.removeEventListener('visibilitychange', onVisibility);
      window.removeEventListener('pagehide', onPageHide);
      window.removeEventListener('pageshow', onPageShow);
    });
    this.socket.connect();
    // The chat open before a reload opens again once the list says who it is with (fresh names).
    let listLoaded;
    const restored = this.restoreChat(new Promise((resolve) => { listLoaded = resolve; }));
    try {
      // The feed position first, then the list: a change made in between comes in the first sync.
      if (!this.cursor.get()) this.cursor.set((await this.api.get('/api/sync')).cursor);
      await this.loadConversations();
      listLoaded(true);
    } catch (error) {
      this.store.update({ listFailed: true });   // the list's placeholder ends: what is kept shows
      throw error;
    } finally {
      listLoaded(false);
      await restored;
      await this.flushQueue();
    }
    await this.sync().catch(() => {});
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.catchUpTimer);
    clearTimeout(this.syncTimer);
    this.socket.disconnect();
    for (const cleanup of this.cleanups) cleanup();
    this.cleanups = [];
    // Files still on their way belong to the person signing out: none may go later with the
    // next person's token (the api object is shared).
    for (const job of this.uploads.values()) job.abort?.();
    this.uploads.clear();
  }

  /**
   * Stops first, then revokes: the server closes this session's sockets on logout, and a client
   * still listening would take that for a drop and ask GET /me with the revoked token (a 401).
   */
  async signOut() {
    this.stop();
    try { await this.api.post('/api/auth/logout'); } catch { /* the token may already be revoked */ }
    this.onSignedOut();
  }

  // --- conversations and chats ---

  async loadConversations() {
    const fetched = (await this.api.get('/api/messages/conversations')).conversations;
    const conversations = mergeConversationList(this.store.get().conversations, fetched);
    this.store.update({ conversations, active: this.freshActive(conversations) });
    this.rememberList(conversations);
    this.requestPresence();
  }

  /** The open chat with the list's copy of its person or group (renamed since it was opened). */
  freshActive(conversations) {
    const { active } = this.store.get();
    const item = active && conversations.find((c) => chatKeyOfConversation(c) === active.key);
    if (!item) return active;
    const fresh = { ...active, ...chatTargetOfConversation(item) };
    return JSON.stringify(fresh) === JSON.stringify(active) ? active : fresh;
  }

  /**
   * Who each conversation is with (no messages), kept for a reload while the server cannot be
   * reached: the open chat then still opens with its name. Replaced by every list that loads.
   */
  rememberList(conversations) {
    const slim = conversations.map((c) => ({
      conversationId: c.conversationId, kind: c.kind,
      ...(c.user ? { user: { id: c.user.id, username: c.user.username, displayName: c.user.displayName, profileImage: c.user.profileImage ?? null } } : {}),
      ...(c.group ? { group: { id: c.group.id, name: c.group.name, avatar: c.group.avatar ?? null, memberCount: c.group.memberCount } } : {}),
    }));
    try { localStorage.setItem(`chatr.list.${this.me.id}`, JSON.stringify(slim)); } catch { /* storage full or off */ }
  }

  rememberedList() {
    try { return JSON.parse(localStorage.getItem(`chatr.list.${this.me.id}`)) ?? []; } catch { return []; }
  }

  /**
   * Status and last seen of people: by default those in the list (and the open chat's); a group's
   * members when its chat or its info opens (they may share no other conversation with me).
   */
  requestPresence(userIds = null) {
    const ids = new Set(userIds ?? []);
    if (!userIds) {
      const { conversations, active } = this.store.get();
      for (const c of conversations) if (c.user) ids.add(c.user.id);
      if (active?.kind === 'direct') ids.add(active.user.id);
    }
    ids.delete(this.me.id);
    if (ids.size) this.socket.emit('presence:request', [...ids].slice(0, 500));
  }

  /** A group's members' presence (the group's member list comes from the server). */
  async requestGroupPresence(groupId) {
    try {
      const group = await this.api.get(`/api/groups/${encodeURIComponent(groupId)}`);
      if (this.store.get().active?.key === `g:${groupId}`) this.requestPresence((group.members ?? []).map((m) => m.user.id));
    } catch { /* offline, or no longer a member: nothing to show */ }
  }

  /** `target`: {kind:'direct', user} or {kind:'group', group}. */
  async openChat(target) {
    const key = target.kind === 'group' ? `g:${target.group.id}` : `u:${target.user.id}`;
    this.store.update({ active: { key, ...target }, replyTo: null, editing: null });
    // Someone found by search may share no conversation yet, so nobody sent us their presence.
    if (target.kind === 'direct') this.socket.emit('presence:request', [target.user.id]);
    else this.requestGroupPresence(target.group.id);
    // A reload comes back to the open chat, even offline (its queued messages are in IndexedDB).
    // Only which chat is kept — its kind and id, in the shape earlier versions stored — never the
    // person's or group's name or picture: those come fresh from the list (see restoreChat).
    const id = key.slice(2);
    sessionStorage.setItem('chatr.active', JSON.stringify(target.kind === 'group' ? { kind: 'group', group: { id } } : { kind: 'direct', user: { id } }));
    try {
      if (!this.chat(key).loaded) await this.loadPage(key);
    } catch {
      // Offline or refused: show what we have (not a loading placeholder for ever); the page loads
      // when the connection returns.
      if (!this.chat(key).loaded) this.setChat(key, { loadFailed: true });
    }
    await this.showQueued(key);
    this.markActiveRead();
  }

  /**
   * Opens a conversation by its id (a notification's `#/c/<id>` link). One not in the list yet
   * (the message that was pushed came after the list was loaded) is looked for again on the server.
   */
  async openConversation(conversationId) {
    const find = () => this.store.get().conversations.find((c) => c.conversationId === conversationId);
    if (!find()) await this.loadConversations();
    const item = find();
    if (!item) throw new Error('That conversation is not in your list');
    await this.openChat(chatTargetOfConversation(item));
  }

  /**
   * Opens a chat at one message (a search hit) and highlights it. If the message is not among
   * those loaded, the chat is reloaded around it (`history?around=`), then forward a few pages.
   * A hit further back leaves a gap after what was loaded (`gapAfter`: the last message before
   * it), which `loadNewer` fills as the reader scrolls down; live messages land after the gap.
   */
  async jumpTo(target, messageId) {
    await this.openChat(target);
    const key = this.store.get().active.key;
    if (!this.chat(key).messages.some((m) => m.id === messageId)) {
      const page = await this.api.get(this.historyPath(key, { around: messageId }));
      const queued = this.chat(key).messages.filter((m) => !m.id);
      const last = page.messages[page.messages.length - 1];
      this.setChat(key, { messages: queued, hasMore: page.hasMore, loaded: true, gapAfter: page.hasMoreAfter && last ? last.id : null });
      this.addMessages(key, page.messages);
      for (let pages = 0; pages < 4 && this.chat(key).gapAfter; pages++) await this.loadNewer(key);
    }
    this.store.update({ highlight: { key, id: messageId, at: Date.now() } });
  }

  /** The page after the gap a jump left (see `jumpTo`); false when there is none. */
  async loadNewer(key = this.store.get().active?.key) {
    const after = this.chat(key).gapAfter;
    if (!key || !after || this.loadingNewer) return false;
    this.loadingNewer = true;
    try {
      const { messages, hasMore } = await this.api.get(this.historyPath(key, { after }));
      const last = messages[messages.length - 1];
      this.addMessages(key, messages, { gapAfter: hasMore && last ? last.id : null });
      return messages.length > 0;
    } finally {
      this.loadingNewer = false;
    }
  }

  /**
   * The chat that was open before a reload, if any, once `listLoaded` settles (true: the list came
   * from the server; false: it could not, and the list remembered from last time says who the chat
   * is with). A chat no longer in the list (a group left meanwhile) stays closed.
   */
  async restoreChat(listLoaded) {
    let saved = null;
    try { saved = JSON.parse(sessionStorage.getItem('chatr.active')); } catch { /* nothing stored */ }
    const id = saved?.kind === 'group' ? saved.group?.id : saved?.kind === 'direct' ? saved.user?.id : null;
    if (!id) return;
    const fresh = await listLoaded;
    if (this.store.get().active || this.stopped) return;   // another chat was opened meanwhile
    const key = `${saved.kind === 'group' ? 'g' : 'u'}:${id}`;
    const list = fresh ? this.store.get().conversations : this.rememberedList();
    const item = list.find((c) => chatKeyOfConversation(c) === key);
    if (item) await this.openChat(chatTargetOfConversation(item));
    else sessionStorage.removeItem('chatr.active');
  }

  closeChat() {
    sessionStorage.removeItem('chatr.active');
    this.store.update({ active: null });
  }

  /** Notifications for one conversation off (muted) or on again; the list shows it at once. */
  async setMuted(conversationId, muted) {
    const { mutedUntil } = await this.api.put(`/api/messages/conversations/${encodeURIComponent(conversationId)}/mute`, { muted });
    const conversations = this.store.get().conversations.map((c) => (c.conversationId === conversationId ? { ...c, mutedUntil } : c));
    this.store.update({ conversations });
  }

  chat(key) { return this.store.get().chats[key] ?? { messages: [], hasMore: false, loaded: false }; }

  setChat(key, patch) {
    const chats = this.store.get().chats;
    this.store.update({ chats: { ...chats, [key]: { ...this.chat(key), ...patch } } });
  }

  historyPath(key, params) {
    const [kind, id] = [key[0], key.slice(2)];
    return `/api/messages/history${query({ [kind === 'g' ? 'groupId' : 'otherUserId']: id, limit: PAGE, ...params })}`;
  }

  async loadPage(key) {
    const { messages, hasMore } = await this.api.get(this.historyPath(key, {}));
    this.addMessages(key, messages, { hasMore, loaded: true });
  }

  /** Infinite scroll: the page before the oldest loaded message. */
  async loadOlder() {
    const key = this.store.get().active?.key;
    const chat = this.chat(key);
    const oldest = chat.messages.find((m) => m.id);
    if (!key || !chat.hasMore || !oldest || this.loadingOlder) return false;
    this.loadingOlder = true;
    try {
      const { messages, hasMore } = await this.api.get(this.historyPath(key, { before: oldest.id }));
      this.addMessages(key, messages, { hasMore });
      return messages.length > 0;
    } finally {
      this.loadingOlder = false;
    }
  }

  /** After a reconnect: everything the open chat missed, page by page after the newest we have. */
  async catchUp() {
    const key = this.store.get().active?.key;
    if (!key) return;
    if (!this.chat(key).loaded) { await this.loadPage(key); this.markActiveRead(); return; }
    for (let pages = 0; pages < 20; pages++) {
      const stored = this.chat(key).messages.filter((m) => m.id);
      const newest = stored[stored.length - 1];
      const params = newest ? { after: newest.id } : {};
      const { messages, hasMore } = await this.api.get(this.historyPath(key, params));
      this.addMessages(key, messages);
      if (!hasMore || !newest) break;
    }
    this.markActiveRead();
  }

  /** catchUp, retried every few seconds while connected (the socket can be back before HTTP is). */
  catchUpSoon(attempt = 0) {
    clearTimeout(this.catchUpTimer);
    this.catchUp().catch(() => {
      if (attempt < 10 && this.socket.connected) this.catchUpTimer = setTimeout(() => this.catchUpSoon(attempt + 1), 3000);
    });
  }

  /**
   * Brings the state to where the server is: every page of the change feed after our cursor.
   * The cursor moves only with the feed's own pages — never to a live event's cursor, because
   * live events can arrive out of feed order (one sent a moment later may overtake another),
   * and jumping to the later one would skip the other for good. A cursor the server no longer
   * keeps (410) means reloading the list and the open chat, then carrying on from now.
   */
  async sync() {
    // A sync asked for while one runs (a reconnect during it) runs again after it: the running
    // one may have read its last page before the changes of that drop.
    if (this.syncing) { this.syncAgain = true; return this.syncing; }
    this.syncing = (async () => {
      try {
        this.syncAgain = false;
        for (let pages = 0; pages < 1000; pages++) {
          if (this.stopped) return;
          const since = this.cursor.get();
          if (!since) { this.cursor.set((await this.api.get('/api/sync')).cursor); await this.reloadAll(); return; }
          let page;
          try {
            page = await this.api.get(`/api/sync${query({ since, limit: 1000 })}`);
          } catch (error) {
            if (error instanceof ApiError && (error.status === 410 || error.status === 400)) { this.cursor.clear(); continue; }
            throw error;
          }
          if (this.stopped) return;
          this.applyChanges(page.changes);
          this.cursor.set(page.cursor);
          if (!page.hasMore && !this.syncAgain) break;
          this.syncAgain = false;
        }
        this.markActiveRead();
      } finally {
        this.syncing = null;
      }
    })();
    return this.syncing;
  }

  /** sync, retried every few seconds while connected (the socket can be back before HTTP is). */
  syncSoon(attempt = 0) {
    clearTimeout(this.syncTimer);
    this.sync().catch(() => {
      if (attempt < 10 && this.socket.connected) this.syncTimer = setTimeout(() => this.syncSoon(attempt + 1), 3000);
    });
  }

  /** The list from scratch, every chat forgotten, and the open chat's newest page (after a 410). */
  async reloadAll() {
    this.store.update({ chats: {} });
    await this.loadConversations();
    const key = this.store.get().active?.key;
    if (key) { await this.loadPage(key); await this.showQueued(key); }
  }

  /** One page of the feed into the state: messages into the chats held, the list entries, and removals. */
  applyChanges(changes) {
    if (!changes.length) return;
    const held = this.store.get().chats;
    for (const [key, messages] of messagesByChat(changes, this.me.id)) {
      if (held[key]) this.addMessages(key, messagesForChat(held[key], messages));
    }
    const { conversations, active } = this.store.get();
    const gone = removedChats(conversations, changes);
    this.store.update({ conversations: applyConversationChanges(conversations, changes) });
    if (active && gone.includes(active.key)) this.closeChat();
  }

  /** Every way messages arrive (events, answers, pages) comes through here, so held statuses find them. */
  addMessages(key, messages, patch = {}) {
    const released = releaseHeld(mergeMessages(this.chat(key).messages, messages), this.heldStatuses, this.me.id);
    this.heldStatuses = released.held;
    this.setChat(key, { ...patch, messages: released.messages });
  }

  /** `message:status`: applied where the message is; kept until it arrives when it is nowhere yet. */
  applyStatusEvent(event) {
    const chats = { ...this.store.get().chats };
    let found = false;
    for (const [key, chat] of Object.entries(chats)) {
      if (!chat.messages.some((m) => m.id === event.messageId)) continue;
      chats[key] = { ...chat, messages: applyStatus(chat.messages, event, this.me.id) };
      found = true;
    }
    if (found) this.store.update({ chats });
    else this.heldStatuses = holdStatus(this.heldStatuses, event);
  }

  /** The list's preview of a conversation whose last message changed (edited, unsent). */
  updateLastMessage(messageId, change) {
    const { conversations } = this.store.get();
    if (!conversations.some((c) => c.lastMessage?.id === messageId)) return;
    this.store.update({
      conversations: conversations.map((c) => (c.lastMessage?.id === messageId ? { ...c, lastMessage: { ...c.lastMessage, ...change(c.lastMessage) } } : c)),
    });
  }

  /**
   * `user:updated`: a person's new name or photo, everywhere it is shown — the list, the open
   * chat's header, their messages' sender name and avatar, the people kept in the store (open
   * profiles and group panels read them). My own, from another device, updates me.
   */
  applyUserUpdate(user) {
    if (!user?.id) return;
    if (user.id === this.me.id) this.setMe(user);
    const state = this.store.get();
    const merge = (old) => ({ ...old, ...user });
    const conversations = state.conversations.map((c) => (c.user?.id === user.id ? { ...c, user: merge(c.user) } : c));
    const active = state.active?.kind === 'direct' && state.active.user.id === user.id ? { ...state.active, user: merge(state.active.user) } : state.active;
    const chats = {};
    for (const [key, chat] of Object.entries(state.chats)) {
      chats[key] = chat.messages.some((m) => m.senderId === user.id)
        ? { ...chat, messages: chat.messages.map((m) => (m.senderId === user.id
          ? { ...m, senderDisplayName: user.displayName ?? m.senderDisplayName, senderUsername: user.username ?? m.senderUsername, senderProfileImage: user.profileImage ?? null }
          : m)) }
        : chat;
    }
    const users = { ...(state.users ?? {}), [user.id]: merge(state.users?.[user.id] ?? {}) };
    this.store.update({ conversations, active, chats, users });
    if (conversations.some((c) => c.user?.id === user.id)) this.rememberList(conversations);
  }

  updateMessage(messageId, change) {
    const chats = { ...this.store.get().chats };
    let found = false;
    for (const [key, chat] of Object.entries(chats)) {
      if (!chat.messages.some((m) => m.id === messageId)) continue;
      chats[key] = { ...chat, messages: chat.messages.map((m) => (m.id === messageId ? { ...m, ...change(m) } : m)) };
      found = true;
    }
    if (found) this.store.update({ chats });
  }

  /** Reads everything up to the newest message from others in the open chat (if the tab is visible). */
  markActiveRead() {
    const { active } = this.store.get();
    if (!active || document.visibilityState !== 'visible') return;
    const unread = latestUnreadFromOthers(this.chat(active.key).messages, this.me.id);
    if (unread && this.socket.emit('message:read', unread.id)) {
      this.setChat(active.key, { messages: this.chat(active.key).messages.map((m) => (m.senderId !== this.me.id ? { ...m, isRead: true } : m)) });
    }
    const conversations = this.store.get().conversations.map((c) => (chatKeyOfConversation(c) === active.key && c.unreadCount ? { ...c, unreadCount: 0 } : c));
    this.store.update({ conversations });
  }

  // --- sending ---

  target(key = this.store.get().active?.key) {
    return key[0] === 'g' ? { groupId: key.slice(2) } : { recipientId: key.slice(2) };
  }

  /** Every text goes through the offline queue first, so nothing typed is lost. */
  async sendText(content, { replyTo = null } = {}) {
    const key = this.store.get().active.key;
    const clientMessageId = crypto.randomUUID();
    const payload = { ...this.target(key), content, type: 'text', ...(replyTo ? { replyToId: replyTo.id } : {}) };
    const quote = replyTo ? { id: replyTo.id, content: replyTo.content, senderDisplayName: replyTo.senderDisplayName, type: replyTo.type } : null;
    const entry = await this.queue.add({ clientMessageId, chatKey: key, payload, meta: { replyTo: quote } });
    this.addMessages(key, [this.pendingMessage(entry)]);
    this.typing(false);
    this.flushQueue();
  }

  /** How a queued entry is drawn until the server has stored it. */
  pendingMessage(entry) {
    return {
      id: null, clientMessageId: entry.clientMessageId, senderId: this.me.id, senderDisplayName: this.me.displayName,
      content: entry.payload.content, type: 'text', status: 'pending', createdAt: entry.createdAt, reactions: [],
      replyTo: entry.meta?.replyTo ?? null,
      pending: entry.status === 'pending', failed: entry.status === 'failed', error: entry.error,
    };
  }

  async showQueued(key) {
    const entries = await this.queue.entries(key);
    if (entries.length) this.addMessages(key, entries.map((e) => this.pendingMessage(e)));
  }

  /** Sends queued messages over REST with their clientMessageId (a repeat returns the first). */
  flushQueue() {
    return this.queue.flush(async (entry) => {
      try {
        return await this.api.post('/api/messages', entry.payload);
      } catch (error) {
        const permanent = error instanceof ApiError && error.status >= 400 && error.status < 500 && ![401, 408, 429].includes(error.status);
        throw permanent ? new PermanentError(error.message) : error;
      }
    }, {
      onSent: (entry, message) => this.addMessages(entry.chatKey, [{ ...message, pending: false }]),
      onFailed: (entry) => this.addMessages(entry.chatKey, [this.pendingMessage(entry)]),
    }).catch(() => 0).then(async (sent) => {
      // Still pending (server down, request blocked): try again later even if no event says so.
      const waiting = (await this.queue.entries()).some((e) => e.status === 'pending');
      clearTimeout(this.retryTimer);
      if (waiting && this.cleanups.length) this.retryTimer = setTimeout(() => this.flushQueue(), 5000);
      return sent;
    });
  }

  async retry(clientMessageId) {
    if (this.uploads.has(clientMessageId)) {
      const { key } = this.uploads.get(clientMessageId);
      this.addMessages(key, [this.uploadDraft(clientMessageId)]);
      this.queueUpload(clientMessageId).catch(() => {});
      return;
    }
    await this.queue.retry(clientMessageId);
    const key = this.store.get().active?.key;
    if (key) {
      this.setChat(key, { messages: this.chat(key).messages.map((m) => (m.clientMessageId === clientMessageId ? { ...m, failed: false, pending: true } : m)) });
    }
    this.flushQueue();
  }

  /** Removes a message not sent; a file still uploading is cancelled (the server stores nothing). */
  async discard(clientMessageId) {
    const upload = this.uploads.get(clientMessageId);
    if (upload) {
      this.uploads.delete(clientMessageId);
      upload.abort?.();
      forgetUpload(clientMessageId);
      this.setChat(upload.key, { messages: this.chat(upload.key).messages.filter((m) => m.clientMessageId !== clientMessageId || m.id) });
      return;
    }
    await this.queue.remove(clientMessageId);
    const key = this.store.get().active?.key;
    if (key) this.setChat(key, { messages: this.chat(key).messages.filter((m) => m.clientMessageId !== clientMessageId || m.id) });
  }

  /**
   * Sends a file as a message; audio gets its real waveform computed here afterwards. The
   * message shows at once, with its progress and Cancel; files go one at a time in the order they
   * were given, so several sent together are stored (and shown) in that order. Refused (here
   * before a byte is sent when over the server's limits, or by the server), unreachable or too
   * slow, it says why, with Retry and Remove (see `upload`).
   * Resolves with the stored message; rejects as the upload did (an AbortError when cancelled).
   */
  sendFile(file, { type, caption = '', duration, replyTo = null } = {}) {
    const key = this.store.get().active.key;
    const clientMessageId = crypto.randomUUID();
    this.uploads.set(clientMessageId, { key, file, type, caption, duration, replyTo, createdAt: new Date().toISOString() });
    this.addMessages(key, [this.uploadDraft(clientMessageId)]);
    return this.queueUpload(clientMessageId);
  }

  /** Runs `upload` after the uploads queued before it (one request at a time: the line's order is the chat's). */
  queueUpload(clientMessageId) {
    const run = (this.uploadLine ?? Promise.resolve()).then(() => this.upload(clientMessageId));
    this.uploadLine = run.catch(() => {});
    return run;
  }

  /** How a file of mine is drawn until the server has stored it (see message-view's upload draft). */
  uploadDraft(clientMessageId) {
    const { file, type, caption, replyTo, createdAt } = this.uploads.get(clientMessageId);
    return {
      id: null, clientMessageId, senderId: this.me.id, senderDisplayName: this.me.displayName, type, content: '', caption: caption || null,
      fileName: file.name || `${type}.webm`, fileSize: file.size, createdAt, status: 'pending', reactions: [],
      replyTo: replyTo ? { id: replyTo.id, content: replyTo.content, senderDisplayName: replyTo.senderDisplayName, type: replyTo.type } : null,
      upload: true, pending: true, failed: false, error: null,
    };
  }

  /**
   * Why the server would refuse `file` (see upload-checks.js), or null. The checks load with the
   * first file sent, not with the app; if they cannot (offline), the server decides.
   */
  async uploadProblem(file) {
    try {
      const [{ uploadProblem }, { clientConfig }] = await Promise.all([import('./upload-checks.js'), import('./client-config.js')]);
      return uploadProblem(file, await clientConfig());
    } catch {
      return null;
    }
  }

  /** One try of an upload. The same clientMessageId on a retry: a file stored the first time is not stored twice. */
  async upload(clientMessageId) {
    const job = this.uploads.get(clientMessageId);
    if (!job || this.stopped) return null;   // cancelled while waiting for its turn, or signed out
    const { key, file, type, caption, duration, replyTo } = job;
    const draft = this.uploadDraft(clientMessageId);
    // Cancelled or removed meanwhile: nothing to show.
    const fail = (reason) => { if (this.uploads.has(clientMessageId)) this.addMessages(key, [{ ...draft, pending: false, failed: true, error: reason }]); };
    const problem = await this.uploadProblem(file);
    if (problem) { fail(problem); throw new Error(problem); }
    if (!this.uploads.has(clientMessageId)) return null;   // cancelled during the check
    const form = new FormData();
    form.append('file', file, draft.fileName);
    for (const [k, v] of Object.entries(this.target(key))) form.append(k, v);
    form.append('type', type);
    form.append('clientMessageId', clientMessageId);
    if (caption) form.append('caption', caption);
    if (duration) form.append('duration', String(duration));
    if (replyTo) form.append('replyToId', replyTo.id);
    // One signal for Cancel and for the time limit (AbortSignal.any is too new for some browsers).
    const cancel = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; cancel.abort(); }, uploadTimeout(file.size));
    job.abort = () => cancel.abort();
    let result;
    try {
      result = await this.api.upload('/api/messages/upload', form, {
        signal: cancel.signal,
        onProgress: (fraction) => setUploadPercent(clientMessageId, Math.floor(fraction * 100)),
      });
    } catch (error) {
      forgetUpload(clientMessageId);
      fail(error instanceof ApiError ? error.message : timedOut ? 'it took too long' : 'the server could not be reached');
      throw error;
    } finally {
      clearTimeout(timer);
      delete job.abort;
    }
    this.uploads.delete(clientMessageId);
    forgetUpload(clientMessageId);
    this.addMessages(key, [result.message]);
    if ((type === 'audio' || type === 'voice') && result.needsWaveformGeneration) {
      try {
        const { waveform, duration: seconds } = await computeWaveform(file);
        await this.api.patch(`/api/messages/${result.messageId}/waveform`, { waveform, duration: seconds });
      } catch { /* the placeholder waveform stays; playback still works */ }
    }
    return result.message;
  }

  // --- actions on messages (answers arrive as events for every member, this tab included) ---

  async act(event, payload) {
    const answer = await this.socket.emitWithAck(event, payload).catch((e) => ({ ok: false, error: e.message }));
    if (!answer?.ok) throw new Error(answer?.error ?? 'The server did not accept that');
    return answer;
  }

  react(messageId, emoji) { return this.act('message:react', { messageId, emoji }); }
  edit(messageId, content) { return this.act('message:edit', { messageId, content }); }
  unsend(messageId) { return this.act('message:unsend', messageId); }
  edits(messageId) { return this.api.get(`/api/messages/${messageId}/edits`); }

  /** True once the chat has a stored message: before that the server knows no conversation. */
  hasConversation(key) { return this.chat(key).messages.some((m) => m.id); }

  typing(isTyping) {
    const key = this.store.get().active?.key;
    if (!key || !this.hasConversation(key)) return;
    const now = Date.now();
    if (isTyping && now - this.typingSentAt < 3000) return;
    if (!isTyping && this.typingSentAt === 0) return;
    this.typingSentAt = isTyping ? now : 0;
    this.socket.emit(isTyping ? 'typing:start' : 'typing:stop', this.target(key));
  }

  ghost(text) {
    const key = this.store.get().active?.key;
    if (!key || key[0] !== 'u' || !this.store.get().settings.ghost || !this.hasConversation(key)) return;
    this.socket.emit('ghost:typing', { recipientId: key.slice(2), text: text.slice(0, 1000) });
  }

  recording(isRecording) {
    const key = this.store.get().active?.key;
    if (key && this.hasConversation(key)) this.socket.emit('audio:recording', { ...this.target(key), isRecording });
  }

  listening(messageId, isListening, isEnded = false) {
    this.socket.emit('audio:listening', { messageId, isListening, isEnded });
  }

  setPresence(status) { return this.act('presence:update', status); }

  async updateProfile(fields) {
    const user = await this.api.put('/api/users/me', fields);
    this.setMe(user);
    if ('showOnlineStatus' in fields) this.socket.emit('settings:update', { showOnlineStatus: fields.showOnlineStatus });
    return user;
  }

  setMe(user) {
    this.me = { ...this.me, ...user };
    this.store.update({ me: this.me });
    localStorage.setItem('chatr.user', JSON.stringify(this.me));
  }
}
