// How a page of the change feed lands in the client's state (Public/lib/sync.js).
import test from 'node:test';
import assert from 'node:assert/strict';
import { SyncCursor, applyConversationChanges, mergeConversationList, messagesByChat, messagesForChat, removedChats } from '../../Public/lib/sync.js';

const alice = { conversationId: 'c1', kind: 'direct', user: { id: 'alice' }, lastMessageAt: '2026-01-01T00:00:00.000Z', unreadCount: 0 };
const team = { conversationId: 'c2', kind: 'group', group: { id: 'g1' }, lastMessageAt: '2026-01-02T00:00:00.000Z', unreadCount: 1 };

test('conversation entries replace or add, removals go, newest activity first; applying twice changes nothing', () => {
  const newer = { ...alice, lastMessageAt: '2026-01-03T00:00:00.000Z', unreadCount: 4 };
  const bob = { conversationId: 'c3', kind: 'direct', user: { id: 'bob' }, lastMessageAt: '2026-01-02T12:00:00.000Z', unreadCount: 1 };
  const changes = [
    { type: 'conversation', conversation: newer },
    { type: 'conversation', conversation: bob },
    { type: 'conversation:removed', conversationId: 'c2' },
  ];
  const once = applyConversationChanges([alice, team], changes);
  assert.deepEqual(once, [newer, bob]);
  assert.deepEqual(applyConversationChanges(once, changes), once);
  assert.deepEqual(removedChats([alice, team], changes), ['g:g1']);
});

test('messages are grouped by the chat they belong to, from my side', () => {
  const changes = [
    { type: 'message', message: { id: 'm1', senderId: 'me', recipientId: 'alice', groupId: null } },
    { type: 'message', message: { id: 'm2', senderId: 'alice', recipientId: 'me', groupId: null } },
    { type: 'message', message: { id: 'm3', senderId: 'bob', recipientId: null, groupId: 'g1' } },
    { type: 'conversation', conversation: alice },
  ];
  const byChat = messagesByChat(changes, 'me');
  assert.deepEqual([...byChat.keys()], ['u:alice', 'g:g1']);
  assert.deepEqual(byChat.get('u:alice').map((m) => m.id), ['m1', 'm2']);
});

test('a chat with earlier pages takes its own messages and newer ones, never older ones it would leave a hole above', () => {
  const at = (n) => `2026-12-01T10:00:${String(n).padStart(2, '0')}.000Z`;
  const message = (n, extra = {}) => ({ id: `m${n}`, createdAt: at(n), content: `Message ${n}`, ...extra });
  const held = { loaded: true, hasMore: true, messages: [message(20), message(21), message(22), { clientMessageId: 'q1', createdAt: at(1), pending: true }] };
  const page = [message(3, { reactions: [{ emoji: '👍' }] }), message(20, { isRead: true }), message(19), message(23)];
  assert.deepEqual(messagesForChat(held, page).map((m) => m.id), ['m20', 'm23'], 'm3 and m19 come with the page before');
  // Same time: the order the client keeps its list in decides (then the id).
  assert.deepEqual(messagesForChat(held, [{ id: 'm1', createdAt: at(20) }, { id: 'm9', createdAt: at(20) }]).map((m) => m.id), ['m9']);
  // The whole history held: everything belongs.
  assert.equal(messagesForChat({ ...held, hasMore: false }, page).length, 4);
  // First page not here yet (a live message came, or the chat was opened offline): only updates
  // of what it holds; the page brings the rest.
  assert.deepEqual(messagesForChat({ loaded: false, hasMore: false, messages: [message(20)] }, page).map((m) => m.id), ['m20']);
  assert.deepEqual(messagesForChat({ loaded: false, hasMore: false, messages: [] }, page), []);
});

test('the cursor is kept per user', () => {
  const memory = new Map();
  const storage = { getItem: (k) => memory.get(k) ?? null, setItem: (k, v) => memory.set(k, v), removeItem: (k) => memory.delete(k) };
  const mine = new SyncCursor('u1', storage);
  mine.set('42.abc');
  assert.equal(new SyncCursor('u1', storage).get(), '42.abc');
  assert.equal(new SyncCursor('u2', storage).get(), null);
  mine.clear();
  assert.equal(mine.get(), null);
});

test('a list or a sync page answered before a live message does not take it back', () => {
  const entry = (id, at, text, unread) => ({ conversationId: id, lastMessageAt: at, lastMessage: { content: text }, unreadCount: unread });
  const held = [entry('a', '2026-12-01T10:00:05.000Z', 'live, just now', 3), entry('b', '2026-12-01T09:00:00.000Z', 'old', 0)];
  const fetched = [entry('a', '2026-12-01T10:00:01.000Z', 'before it', 2), entry('b', '2026-12-01T09:30:00.000Z', 'newer here', 1)];
  const merged = mergeConversationList(held, fetched);
  assert.deepEqual(merged.map((c) => [c.conversationId, c.lastMessage.content, c.unreadCount]), [['a', 'live, just now', 3], ['b', 'newer here', 1]]);
  const paged = applyConversationChanges(held, [{ type: 'conversation', conversation: fetched[0] }]);
  assert.equal(paged.find((c) => c.conversationId === 'a').lastMessage.content, 'live, just now');
  const edited = applyConversationChanges(held, [{ type: 'conversation', conversation: entry('a', '2026-12-01T10:00:05.000Z', 'live, edited', 3) }]);
  assert.equal(edited.find((c) => c.conversationId === 'a').lastMessage.content, 'live, edited', 'the same message: the server is right');
});
