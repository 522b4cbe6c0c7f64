// What each server event does to the client's state. Every handler is small and idempotent:
// events can repeat (several tabs, a REST send echoed back) and must never duplicate a message.
import { chatKeyOf, chatKeyOfConversation, isNotice } from './messages.js';
import { toast } from '../components/toast/toast.js';
import { alertNewMessage } from './notifier.js';

const TYPING_TTL = 12000;

export function attachRealtimeHandlers(c) {
  const { socket, store } = c;
  const me = () => c.me.id;
  let connectedBefore = false;
  let reloadTimer;
  const reloadConversations = () => { clearTimeout(reloadTimer); reloadTimer = setTimeout(() => c.loadConversations().catch(() => {}), 150); };

  socket.on('state', (state) => {
    const connection = state === 'connected' ? 'online' : !navigator.onLine || state === 'closed' ? 'offline' : 'connecting';
    store.update({ connection });
  });
  socket.on('connect', () => {
    if (document.visibilityState !== 'visible') socket.emit('presence:update', 'away');
    // A start while offline: the open chat's first page.
    const active = store.get().active;
    if (active && !c.chat(active.key).loaded) c.catchUpSoon();
    // After a reconnect (recovered or not): the queue goes first (its sends are idempotent),
    // then the change feed brings everything else that happened meanwhile. The first connect
    // of a page is synced by `start`.
    if (connectedBefore) c.flushQueue().then(() => { c.syncSoon(); c.requestPresence(); });
    else c.flushQueue();
    connectedBefore = true;
  });
  // The server closed this socket on purpose — signed out elsewhere, or revoked. If the session
  // still works (GET /me succeeds) connect again; a 401 signs out through the API's handler.
  socket.on('disconnect', (reason) => {
    if (reason !== 'io server disconnect') return;
    c.api.get('/api/users/me').then(() => socket.connect(), () => {});
  });
  socket.on('connect_error', (error) => {
    if (error?.message === 'Authentication error') { toast('Your session has ended — please sign in again.', 'error'); c.stop(); c.onSignedOut(); }
  });

  // --- messages ---

  function incoming(message) {
    const key = chatKeyOf(message, me());
    const isNew = !c.chat(key).messages.some((m) => m.id === message.id);   // a repeat alerts no one
    c.addMessages(key, [message]);
    bumpConversation(key, message);
    clearTyping(key, message.senderId);
    if (message.senderId === me()) return;
    if (!isNotice(message)) socket.emit('message:received', message.id);   // notices have no receipts
    if (store.get().active?.key === key) c.markActiveRead();
    if (isNew) alertNewMessage(c, message, key);
  }

  function bumpConversation(key, message) {
    const { conversations, active } = store.get();
    const item = conversations.find((x) => chatKeyOfConversation(x) === key);
    if (!item) { reloadConversations(); return; }
    // As the server counts: others' messages, not notices ("Alice joined").
    const unread = message.senderId !== me() && !isNotice(message) && active?.key !== key ? item.unreadCount + 1 : item.unreadCount;
    const updated = { ...item, lastMessage: message, lastMessageAt: message.createdAt, unreadCount: unread };
    store.update({ conversations: [updated, ...conversations.filter((x) => x !== item)] });
  }

  socket.on('message:received', incoming);
  socket.on('group:message:received', incoming);
  socket.on('message:sent', incoming);

  socket.on('message:status', (event) => c.applyStatusEvent(event));
  socket.on('message:reaction', ({ messageId, reactions }) => c.updateMessage(messageId, () => ({ reactions })));
  // An edit or an unsend of a conversation's last message changes its preview in the list too.
  socket.on('message:edited', ({ messageId, content, editedAt }) => {
    const change = () => ({ content, edited: true, editedAt });
    c.updateMessage(messageId, change);
    c.updateLastMessage(messageId, change);
  });
  socket.on('message:unsent', ({ messageId }) => {
    const change = () => ({
      unsent: true, content: '', edited: false, fileUrl: null, fileName: null, fileSize: null, fileType: null, caption: null, waveform: null, duration: null,
    });
    c.updateMessage(messageId, change);
    c.updateLastMessage(messageId, change);
  });
  socket.on('audio:waveform', ({ messageId, waveform, duration }) => c.updateMessage(messageId, () => ({ waveform, duration })));

  // --- typing, ghost text, recording ---

  function setTransient(slice, key, userId, value) {
    const all = { ...store.get()[slice] };
    const forChat = { ...(all[key] ?? {}) };
    if (value === null) delete forChat[userId]; else forChat[userId] = value;
    all[key] = forChat;
    store.update({ [slice]: all });
  }
  const timers = new Map();
  function expireLater(slice, key, userId) {
    const id = `${slice}|${key}|${userId}`;
    clearTimeout(timers.get(id));
    timers.set(id, setTimeout(() => setTransient(slice, key, userId, null), TYPING_TTL));
  }
  function clearTyping(key, userId) {
    setTransient('typing', key, userId, null);
    setTransient('ghost', key, userId, null);
  }

  socket.on('typing:status', ({ userId, username, isTyping, type, groupId }) => {
    const key = type === 'group' ? `g:${groupId}` : `u:${userId}`;
    setTransient('typing', key, userId, isTyping ? username : null);
    if (isTyping) expireLater('typing', key, userId);
  });
  socket.on('ghost:typing', ({ userId, text }) => {
    const key = `u:${userId}`;
    setTransient('ghost', key, userId, text ? text : null);
    if (text) expireLater('ghost', key, userId);
  });
  socket.on('audio:recording', ({ userId, username, isRecording, groupId }) => {
    const key = groupId ? `g:${groupId}` : `u:${userId}`;
    setTransient('recording', key, userId, isRecording ? username : null);
    if (isRecording) expireLater('recording', key, userId);
  });

  // --- presence ---

  function setPresence(entries) {
    const presence = { ...store.get().presence };
    for (const { userId, status, lastSeen } of entries) presence[userId] = { status, lastSeen: lastSeen ?? presence[userId]?.lastSeen ?? null };
    store.update({ presence });
  }
  // On every connect: the server's whole list of contacts online now. Anyone we thought online
  // and is not in it went away while we were not listening.
  socket.on('presence:update', ({ onlineUsers = [] }) => {
    const online = new Set(onlineUsers.map((u) => u.userId));
    const gone = Object.entries(store.get().presence)
      .filter(([userId, p]) => p.status !== 'offline' && !online.has(userId))
      .map(([userId]) => ({ userId, status: 'offline' }));
    setPresence([...gone, ...onlineUsers]);
  });
  socket.on('presence:response', (list) => setPresence(list));
  socket.on('user:status', ({ userId, status, lastSeen }) => setPresence([{ userId, status, lastSeen }]));

  // --- people ---

  // Someone I share a conversation with (or I, on another device) changed their name or photo.
  socket.on('user:updated', ({ user } = {}) => c.applyUserUpdate(user));

  // --- groups ---

  const groupChanged = () => { reloadConversations(); store.update({ groupsVersion: (store.get().groupsVersion ?? 0) + 1 }); };
  socket.on('group:created', groupChanged);
  socket.on('group:updated', groupChanged);
  socket.on('group:user:joined', groupChanged);
  socket.on('group:user:left', ({ groupId, userId }) => {
    groupChanged();
    if (userId === me() && store.get().active?.key === `g:${groupId}`) c.closeChat();
  });
  socket.on('group:deleted', ({ groupId }) => {
    groupChanged();
    if (store.get().active?.key === `g:${groupId}`) { toast('This group was deleted.'); c.closeChat(); }
  });

  socket.on('error', ({ message }) => toast(message ?? 'Something went wrong', 'error'));
}
