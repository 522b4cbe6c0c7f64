// Pure rules of the chat view: which chat a message belongs to, merging pages and live events
// without duplicates, grouping bubbles by sender, and the status line under my last message.

/** A chat's key: `u:<otherUserId>` for a direct chat, `g:<groupId>` for a group. */
export function chatKeyOf(message, myId) {
  if (message.groupId) return `g:${message.groupId}`;
  return `u:${message.senderId === myId ? message.recipientId : message.senderId}`;
}

export function chatKeyOfConversation(item) {
  return item.kind === 'group' ? `g:${item.group.id}` : `u:${item.user.id}`;
}

/** What `openChat` takes for a conversation list item. */
export function chatTargetOfConversation(item) {
  return item.kind === 'group' ? { kind: 'group', group: item.group } : { kind: 'direct', user: item.user };
}

/** Muted until a time still to come (the server says "until turned off" with a far-future date). */
export function isMuted(item, now = Date.now()) {
  return !!item?.mutedUntil && Date.parse(item.mutedUntil) > now;
}

/**
 * Merges messages into a list ordered oldest first: a message already present (same id, or
 * same clientMessageId as a pending one) is updated, never duplicated.
 */
export function mergeMessages(list, incoming) {
  const out = [...list];
  for (const message of incoming) {
    const index = out.findIndex((m) => (m.id && m.id === message.id)
      || (message.clientMessageId && m.clientMessageId === message.clientMessageId && m.senderId === message.senderId));
    if (index === -1) out.push(message);
    else out[index] = mergeCopies(out[index], message);
  }
  return out.sort(compareMessages);
}

/**
 * Two copies of one message, `copy` arriving second. Copies come from events, REST answers and
 * history pages that race each other, so the one arriving last may be a snapshot taken before a
 * receipt (the send's answer says "delivered" after the reader's "read" came in): what the
 * message has reached — stored, its status, read — is kept, never taken back.
 */
function mergeCopies(current, copy) {
  // The queued draft drawn again (the outbox read while its send was answered) is not news.
  if (current.id && !copy.id) return current;
  const merged = { ...current, ...copy, pending: copy.pending ?? false, failed: copy.failed ?? false };
  if (statusRank(current.status) > statusRank(copy.status)) merged.status = current.status;
  if (current.isRead) merged.isRead = true;
  if (current.readAt && !copy.readAt) merged.readAt = current.readAt;
  // A live copy carries no readers (`readBy: null`); who has read it is never taken back.
  if (current.readBy?.length) merged.readBy = [...new Set([...current.readBy, ...(copy.readBy ?? [])])];
  return merged;
}

/** Oldest first: the order of a chat's messages. */
export function compareMessages(a, b) {
  // Pending (not yet stored) messages come after stored ones, in the order they were written.
  if (!!a.pending !== !!b.pending) return a.pending ? 1 : -1;
  return a.createdAt.localeCompare(b.createdAt) || String(a.id).localeCompare(String(b.id));
}

/** Consecutive messages of one sender within five minutes form a group of bubbles. */
export function groupBySender(messages, gapMs = 5 * 60 * 1000) {
  const groups = [];
  for (const message of messages) {
    const last = groups[groups.length - 1];
    const previous = last?.messages[last.messages.length - 1];
    if (last && last.senderId === message.senderId && new Date(message.createdAt) - new Date(previous.createdAt) < gapMs) {
      last.messages.push(message);
    } else {
      groups.push({ senderId: message.senderId, messages: [message] });
    }
  }
  return groups;
}

const STATUS_TEXT = { sent: 'Sent', delivered: 'Delivered', read: 'Read', listening: 'Listening…', listened: 'Listened' };

/**
 * The line under my last message: its id and text, or null when the last message is not mine.
 * In a group, once someone has read it: "Read by N" (N of the other members).
 */
export function deliveryStatus(messages, myId) {
  const last = messages.findLast((m) => !isNotice(m));
  if (!last || last.senderId !== myId || last.unsent) return null;
  if (last.failed) return { id: last.clientMessageId, text: 'Not sent', failed: true };
  if (last.pending) return { id: last.clientMessageId, text: 'Waiting to send…' };
  if (last.groupId && last.readBy?.length) return { id: last.id, text: `Read by ${last.readBy.length}` };
  return { id: last.id, text: STATUS_TEXT[last.status] ?? 'Sent' };
}

/**
 * The ticks on one of my messages: a clock while queued, ✓ sent, ✓✓ delivered, ✓✓ read
 * (coloured), with the words a screen reader says. In a group "read" is once anyone has read it.
 */
export function messageTicks(m) {
  if (m.failed) return { kind: 'failed', symbol: '!', label: 'Not sent' };
  if (m.pending || !m.id) return { kind: 'queued', symbol: '🕓', label: 'Waiting to send' };
  const read = m.status === 'read' || m.status === 'listening' || m.status === 'listened' || (m.groupId && m.readBy?.length > 0);
  if (read) return { kind: 'read', symbol: '✓✓', label: m.groupId && m.readBy?.length ? `Read by ${m.readBy.length}` : 'Read' };
  if (m.status === 'delivered') return { kind: 'delivered', symbol: '✓✓', label: 'Delivered' };
  return { kind: 'sent', symbol: '✓', label: 'Sent' };
}

/** A local day's key ("2026-12-01") for a timestamp: messages are split into days by it. */
export function dayKey(iso) {
  const d = new Date(iso);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/**
 * The timeline drawn for a chat, in order: `{kind:'day', at}` before the first message of each
 * day, `{kind:'unread'}` before the first unread one, and `{kind:'group', senderId, messages}`
 * for bubbles of one sender within `gapMs` (a day or the unread marker also ends a group).
 */
export function timeline(messages, { unreadFrom = null, gapMs = 5 * 60 * 1000 } = {}) {
  const items = [];
  let day = null;
  let group = null;
  for (const m of messages) {
    const key = dayKey(m.createdAt);
    if (key !== day) { items.push({ kind: 'day', at: m.createdAt }); day = key; group = null; }
    if (unreadFrom && m.id === unreadFrom) { items.push({ kind: 'unread' }); group = null; }
    if (isNotice(m)) { items.push({ kind: 'notice', message: m }); group = null; continue; }
    const previous = group?.messages[group.messages.length - 1];
    if (group && group.senderId === m.senderId && !m.unsent === !previous.unsent
      && new Date(m.createdAt) - new Date(previous.createdAt) < gapMs) {
      group.messages.push(m);
    } else {
      group = { kind: 'group', senderId: m.senderId, messages: [m] };
      items.push(group);
    }
  }
  return items;
}

const STATUS_RANK = { pending: -1, sent: 0, delivered: 1, read: 2, listening: 3, listened: 4 };
const statusRank = (status) => STATUS_RANK[status] ?? 0;

/**
 * Applies `message:status`: the message gets the status, and for "read" every older message of
 * mine in the chat is read too (the server marks everything up to it). Statuses never go back.
 * A status is a receipt for *my* messages only: in a group, someone else reading another
 * member's message says nothing about what I have read.
 */
export function applyStatus(messages, { messageId, status, readAt, userId }, myId) {
  const target = messages.find((m) => m.id === messageId);
  if (!target) return messages;
  return messages.map((m) => {
    const isTarget = m.id === messageId && m.senderId === myId;
    const olderRead = status === 'read' && m.senderId === myId && !m.pending && m.createdAt <= target.createdAt;
    if (!isTarget && !olderRead) return m;
    // In a group, a read names its reader: my message is "read by" one more member.
    const readBy = status === 'read' && userId && userId !== myId && m.groupId && !(m.readBy ?? []).includes(userId)
      ? [...(m.readBy ?? []), userId] : m.readBy;
    if (statusRank(m.status) >= STATUS_RANK[status]) return readBy === m.readBy ? m : { ...m, readBy };
    return { ...m, status, readBy, isRead: status !== 'delivered' && status !== 'sent' ? true : m.isRead, readAt: readAt ?? m.readAt };
  });
}

/**
 * Keeps a `message:status` whose message this client does not have yet: a receipt can overtake
 * what gives a queued message its id (the send's answer waits for the outbox to be cleared, and
 * `message:sent` is missed when the socket was down). Per message the furthest status is kept;
 * past `limit` the oldest go (receipts for chats never opened, whose history has them anyway).
 * Returns a new Map.
 */
export function holdStatus(held, event, limit = 200) {
  const previous = held.get(event.messageId);
  if (previous && statusRank(previous.status) >= statusRank(event.status)) return held;
  const next = new Map(held);
  next.delete(event.messageId);
  next.set(event.messageId, event);
  for (const id of next.keys()) {
    if (next.size <= limit) break;
    next.delete(id);
  }
  return next;
}

/** Applies the held statuses whose message is in `messages` now; returns the list and what stays held. */
export function releaseHeld(messages, held, myId) {
  if (held.size === 0) return { messages, held };
  const ids = new Set(messages.map((m) => m.id).filter(Boolean));
  let out = messages;
  let rest = held;
  for (const [id, event] of held) {
    if (!ids.has(id)) continue;
    out = applyStatus(out, event, myId);
    if (rest === held) rest = new Map(held);
    rest.delete(id);
  }
  return { messages: out, held: rest };
}

/** The latest message from someone else that I have not marked read (to send message:read). */
export function latestUnreadFromOthers(messages, myId) {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m.senderId !== myId && !m.pending) return m.isRead ? null : m;
  }
  return null;
}

/** A group's notice of a change of membership, written by the server (type `system`). */
export function isNotice(message) { return message?.type === 'system'; }

/** "Alice joined", "You were added": a notice's words (its sender is the member it is about). */
export function noticeText(message, myId) {
  const mine = message.senderId === myId;
  const who = mine ? 'You' : message.senderDisplayName || message.senderUsername || 'Someone';
  const verb = { joined: 'joined', left: 'left', added: mine ? 'were added' : 'was added', removed: mine ? 'were removed' : 'was removed' };
  return `${who} ${verb[message.content] ?? 'changed the group'}`;
}

/** A short preview of a message for the conversation list and reply quotes. */
export function previewText(message, myId = null) {
  if (!message) return '';
  if (message.unsent) return 'Message unsent';
  switch (message.type) {
    case 'system': return noticeText(message, myId);
    case 'image': return message.caption || '📷 Photo';
    case 'voice': return '🎤 Voice message';
    case 'audio': return `🎵 ${message.fileName ?? 'Audio'}`;
    case 'video': return `🎬 ${message.fileName ?? 'Video'}`;
    case 'file': return `📄 ${message.fileName ?? 'File'}`;
    default: return message.content;
  }
}

/** The server counts unread messages up to 1,000 (MessageRules.maxUnreadCount): from there, "999+". */
export const UNREAD_CAP = 1000;
export function unreadLabel(count) {
  return count >= UNREAD_CAP ? '999+' : String(count);
}
