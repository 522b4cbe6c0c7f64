// The change feed (GET /api/sync) on the client: where the client is in it (a cursor kept per
// user in localStorage, so a reload resumes), and how a page of changes lands in the state.
// Entries are current state — a message as it is now, a conversation's list entry as it is
// now, or "removed" — so applying one twice, or one already seen live, changes nothing.
import { chatKeyOf, chatKeyOfConversation, compareMessages } from './messages.js';

export class SyncCursor {
  constructor(userId, storage = globalThis.localStorage) {
    this.key = `chatr.sync.${userId}`;
    this.storage = storage;
  }

  get() { try { return this.storage.getItem(this.key); } catch { return null; } }
  set(cursor) { try { this.storage.setItem(this.key, cursor); } catch { /* private mode: resume from the server's */ } }
  clear() { try { this.storage.removeItem(this.key); } catch { /* nothing kept */ } }
}

/**
 * A list entry read from the server, unless the one held is newer: a message that arrived live
 * while the list or a sync page was on its way keeps its place (its event also moved the cursor
 * past it, so no later sync would bring it back), with its unread count.
 */
export function fresherEntry(held, fetched) {
  if (!held?.lastMessageAt || String(held.lastMessageAt) <= String(fetched.lastMessageAt ?? '')) return fetched;
  return { ...fetched, lastMessage: held.lastMessage, lastMessageAt: held.lastMessageAt, unreadCount: held.unreadCount };
}

const newestFirst = (a, b) => String(b.lastMessageAt ?? '').localeCompare(String(a.lastMessageAt ?? ''));

/** A whole list from the server laid over the one held (see fresherEntry), newest first. */
export function mergeConversationList(held, fetched) {
  const byId = new Map(held.map((c) => [c.conversationId, c]));
  return fetched.map((c) => fresherEntry(byId.get(c.conversationId), c)).sort(newestFirst);
}

/** The conversation list after a page: entries replaced or added, removed ones gone, newest first. */
export function applyConversationChanges(conversations, changes) {
  const byId = new Map(conversations.map((c) => [c.conversationId, c]));
  for (const change of changes) {
    if (change.type === 'conversation') byId.set(change.conversation.conversationId, fresherEntry(byId.get(change.conversation.conversationId), change.conversation));
    else if (change.type === 'conversation:removed') byId.delete(change.conversationId);
  }
  return [...byId.values()].sort(newestFirst);
}

/** The page's messages by chat key, for the chats the client holds. */
export function messagesByChat(changes, myId) {
  const byChat = new Map();
  for (const change of changes) {
    if (change.type !== 'message') continue;
    const key = chatKeyOf(change.message, myId);
    if (!byChat.has(key)) byChat.set(key, []);
    byChat.get(key).push(change.message);
  }
  return byChat;
}

/**
 * What a held chat takes from a page: its own messages as they are now, and those after the
 * oldest it holds. An older one — a reaction to something said long ago, or a read that covers
 * the whole backlog (every message it read is in the page) — is left to the page before to bring
 * when there are earlier pages: merged now, it would sit above a hole that scrolling back never
 * fills, because the page before is read from the oldest message held. A chat whose first page
 * has not come (it holds only live messages, or what was queued offline) takes only updates of
 * what it holds: that page brings the rest, and anything else would become its oldest message.
 */
export function messagesForChat(chat, messages) {
  const held = new Set(chat.messages.filter((m) => m.id).map((m) => m.id));
  if (!chat.loaded) return messages.filter((m) => held.has(m.id));
  const oldest = chat.messages.find((m) => m.id);
  if (!chat.hasMore || !oldest) return messages;
  return messages.filter((m) => held.has(m.id) || compareMessages(m, oldest) > 0);
}

/** Chat keys of the conversations the page says are gone. */
export function removedChats(conversations, changes) {
  const gone = new Set(changes.filter((c) => c.type === 'conversation:removed').map((c) => c.conversationId));
  return conversations.filter((c) => gone.has(c.conversationId)).map(chatKeyOfConversation);
}
