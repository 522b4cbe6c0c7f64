// Pure rules of the chat view and helpers: merging without duplicates, statuses, grouping,
// escaping, backoff, times and waveforms.
import test from 'node:test';
import assert from 'node:assert/strict';
import { mergeMessages, applyStatus, holdStatus, releaseHeld, deliveryStatus, groupBySender, chatKeyOf, latestUnreadFromOthers, previewText, unreadLabel, noticeText, timeline } from '../../Public/lib/messages.js';
import { html, escapeHTML, safeURL, cssURL, SafeHTML } from '../../Public/lib/html.js';
import { backoffDelay } from '../../Public/lib/backoff.js';
import { lastSeenText, formatBytes, formatDuration } from '../../Public/lib/time.js';
import { barsFromSamples } from '../../Public/lib/waveform.js';

const msg = (id, sender, at, extra = {}) => ({ id, senderId: sender, createdAt: `2026-01-01T00:00:${String(at).padStart(2, '0')}.000Z`, status: 'sent', ...extra });

test('merge replaces a pending message by its stored copy and never duplicates', () => {
  const pending = { id: null, clientMessageId: 'c1', senderId: 'me', createdAt: '2026-01-01T00:00:09.000Z', pending: true, content: 'hi' };
  let list = mergeMessages([msg('a', 'bob', 1)], [pending]);
  list = mergeMessages(list, [msg('b', 'me', 5, { clientMessageId: 'c1', content: 'hi' })]);
  assert.deepEqual(list.map((m) => [m.id, m.pending]), [['a', undefined], ['b', false]]);
  list = mergeMessages(list, [msg('b', 'me', 5, { clientMessageId: 'c1', content: 'hi' }), msg('a', 'bob', 1)]);
  assert.equal(list.length, 2, 'a repeated event changes nothing');
  // Pending ones stay after stored ones; stored ones are ordered by time, then id.
  list = mergeMessages(list, [{ ...pending, clientMessageId: 'c2' }, msg('c', 'bob', 5), msg('0', 'bob', 5)]);
  assert.deepEqual(list.map((m) => m.id ?? m.clientMessageId), ['a', '0', 'b', 'c', 'c2']);
});

test('read marks my older messages too and statuses never go back', () => {
  const list = [msg('1', 'me', 1), msg('2', 'bob', 2), msg('3', 'me', 3), msg('4', 'me', 4)];
  const read = applyStatus(list, { messageId: '3', status: 'read', readAt: 'now' }, 'me');
  assert.deepEqual(read.map((m) => m.status), ['read', 'sent', 'read', 'sent']);
  const back = applyStatus(read, { messageId: '3', status: 'delivered' }, 'me');
  assert.equal(back[2].status, 'read');
  assert.equal(applyStatus(list, { messageId: 'unknown', status: 'read' }, 'me'), list);
  const listened = applyStatus(read, { messageId: '3', status: 'listened' }, 'me');
  assert.equal(listened[2].status, 'listened');
});

test("in a group, someone else's read receipt on another member's message is not my read", () => {
  const list = [msg('1', 'ann', 1), msg('2', 'me', 2)];
  const after = applyStatus(list, { messageId: '1', status: 'read', readAt: 'now', userId: 'bob' }, 'me');
  assert.equal(after[0].status, 'sent');
  assert.ok(!after[0].isRead, 'still unread for me, so I will send message:read myself');
  assert.equal(after[1].status, 'sent', 'and my newer message is untouched');
});

test('a later copy of a message never takes back its status, read state or id', () => {
  let list = mergeMessages([], [msg('m', 'me', 1, { clientMessageId: 'c', status: 'delivered' })]);
  list = applyStatus(list, { messageId: 'm', status: 'read', readAt: 'then' }, 'me');
  // The send's answer (or a history page) written before the receipt arrives after it.
  list = mergeMessages(list, [msg('m', 'me', 1, { clientMessageId: 'c', status: 'delivered', isRead: false, readAt: null, content: 'edited' })]);
  assert.deepEqual([list[0].status, list[0].isRead, list[0].readAt, list[0].content], ['read', true, 'then', 'edited']);
  // The queued draft drawn again from the outbox does not turn the stored message back into it.
  list = mergeMessages(list, [{ id: null, clientMessageId: 'c', senderId: 'me', status: 'pending', pending: true, createdAt: '2026-01-01T00:00:09.000Z' }]);
  assert.deepEqual([list.length, list[0].id, list[0].pending, list[0].status], [1, 'm', false, 'read']);
  // Someone else's message I have read stays read when an older page says otherwise.
  const theirs = mergeMessages([msg('t', 'bob', 2, { isRead: true })], [msg('t', 'bob', 2, { isRead: false })]);
  assert.equal(theirs[0].isRead, true);
});

test('a status that comes before its message is held, and applied when the message arrives', () => {
  let held = holdStatus(new Map(), { messageId: 'm2', status: 'delivered' });
  held = holdStatus(held, { messageId: 'm2', status: 'read', readAt: 'then' });
  held = holdStatus(held, { messageId: 'm2', status: 'delivered' });
  assert.equal(held.get('m2').status, 'read', 'the furthest status is kept');
  const known = [msg('m1', 'me', 1, { status: 'delivered' })];
  const waiting = releaseHeld(known, held, 'me');
  assert.equal(waiting.held, held, 'nothing to apply yet');
  assert.equal(waiting.messages, known);
  const { messages, held: rest } = releaseHeld(mergeMessages(known, [msg('m2', 'me', 2, { status: 'delivered' })]), held, 'me');
  assert.deepEqual(messages.map((m) => m.status), ['read', 'read'], 'read covers my older messages too');
  assert.equal(rest.size, 0);
  assert.equal(held.size, 1, 'the map given is not changed');
  // Receipts for messages that never show up (chats not open) do not pile up.
  let many = new Map();
  for (let i = 0; i < 5; i++) many = holdStatus(many, { messageId: `x${i}`, status: 'read' }, 3);
  assert.deepEqual([...many.keys()], ['x2', 'x3', 'x4']);
});

test('a queued message ends up read whatever order its pieces arrive in', () => {
  // What reaches the sender's client once the outbox sends: the copy in `message:sent`, the
  // REST answer (both written before the reader saw it) and the reader's receipt.
  const stored = msg('m', 'me', 5, { clientMessageId: 'c', status: 'delivered', isRead: false });
  const arrivals = {
    event: (s) => add(s, [stored]),
    answer: (s) => add(s, [{ ...stored, pending: false }]),
    receipt: (s) => (s.messages.some((m) => m.id === 'm')
      ? { ...s, messages: applyStatus(s.messages, { messageId: 'm', status: 'read', readAt: 'then' }, 'me') }
      : { ...s, held: holdStatus(s.held, { messageId: 'm', status: 'read', readAt: 'then' }) }),
  };
  function add(s, incoming) {
    const { messages, held } = releaseHeld(mergeMessages(s.messages, incoming), s.held, 'me');
    return { messages, held };
  }
  const orders = [['event', 'answer', 'receipt'], ['event', 'receipt', 'answer'], ['answer', 'receipt', 'event'],
    ['answer', 'event', 'receipt'], ['receipt', 'event', 'answer'], ['receipt', 'answer', 'event'], ['receipt', 'answer']];
  for (const order of orders) {
    const pending = { id: null, clientMessageId: 'c', senderId: 'me', status: 'pending', pending: true, createdAt: '2026-01-01T00:00:01.000Z' };
    let state = { messages: [msg('b', 'bob', 1), pending], held: new Map() };
    for (const piece of order) state = arrivals[piece](state);
    assert.deepEqual(deliveryStatus(state.messages, 'me'), { id: 'm', text: 'Read' }, order.join(' → '));
    assert.equal(state.messages.length, 2, order.join(' → '));
    assert.equal(state.held.size, 0, order.join(' → '));
  }
});

test('the delivery line is for my last message only', () => {
  assert.deepEqual(deliveryStatus([msg('1', 'me', 1, { status: 'delivered' })], 'me'), { id: '1', text: 'Delivered' });
  assert.equal(deliveryStatus([msg('1', 'me', 1), msg('2', 'bob', 2)], 'me'), null);
  assert.equal(deliveryStatus([], 'me'), null);
  assert.equal(deliveryStatus([{ clientMessageId: 'c', senderId: 'me', pending: true }], 'me').text, 'Waiting to send…');
  assert.equal(deliveryStatus([{ clientMessageId: 'c', senderId: 'me', failed: true }], 'me').failed, true);
});

test('bubbles group by sender within five minutes', () => {
  const groups = groupBySender([msg('1', 'a', 1), msg('2', 'a', 2), msg('3', 'b', 3), msg('4', 'a', 4)]);
  assert.deepEqual(groups.map((g) => g.messages.length), [2, 1, 1]);
  const late = { ...msg('5', 'a', 0), createdAt: '2026-01-01T00:10:00.000Z' };
  assert.equal(groupBySender([msg('4', 'a', 4), late]).length, 2);
});

test('chat keys, unread and previews', () => {
  assert.equal(chatKeyOf({ senderId: 'me', recipientId: 'bob', groupId: null }, 'me'), 'u:bob');
  assert.equal(chatKeyOf({ senderId: 'bob', recipientId: 'me', groupId: null }, 'me'), 'u:bob');
  assert.equal(chatKeyOf({ senderId: 'bob', groupId: 'g1' }, 'me'), 'g:g1');
  assert.equal(latestUnreadFromOthers([msg('1', 'bob', 1), msg('2', 'me', 2)], 'me').id, '1');
  assert.equal(latestUnreadFromOthers([msg('1', 'bob', 1, { isRead: true })], 'me'), null);
  assert.equal(previewText({ unsent: true, content: 'x' }), 'Message unsent');
  assert.equal(previewText({ type: 'voice' }), '🎤 Voice message');
  assert.equal(previewText({ type: 'file', fileName: 'a.pdf' }), '📄 a.pdf');
});

test('html escapes every value unless it is html itself', () => {
  const attack = '<img src=x onerror="alert(1)">\'`&';
  const out = html`<p title="${attack}">${attack}${html`<b>${'ok'}</b>`}${[1, html`<i>2</i>`]}${null}${false}${0}</p>`;
  assert.ok(out instanceof SafeHTML);
  assert.equal(out.text, '<p title="&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&#39;&#96;&amp;">&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&#39;&#96;&amp;<b>ok</b>1<i>2</i>0</p>');
  assert.equal(escapeHTML('a&b'), 'a&amp;b');
  assert.equal(safeURL('javascript:alert(1)'), '#');
  assert.equal(safeURL('data:text/html,<x>'), '#');
  assert.equal(safeURL('https://x/y.png?a=1'), 'https://x/y.png?a=1');
  assert.equal(safeURL('/uploads/a.png'), '/uploads/a.png');
  assert.equal(cssURL("https://x/a'b(c).png"), 'url("https://x/a%27b%28c%29.png")');
});

test('backoff grows, is capped, and is spread by jitter', () => {
  const mid = () => 0.5;
  assert.deepEqual([0, 1, 2, 3, 10].map((n) => backoffDelay(n, { min: 500, max: 10000 }, mid)), [500, 1000, 2000, 4000, 10000]);
  assert.equal(backoffDelay(0, { min: 1000, jitter: 0.5 }, () => 0), 500);
  assert.equal(backoffDelay(0, { min: 1000, jitter: 0.5 }, () => 1), 1500);
});

test('times and sizes for people', () => {
  const now = new Date('2026-01-01T12:00:00Z');
  assert.equal(lastSeenText('2026-01-01T11:59:30Z', now), 'last seen just now');
  assert.equal(lastSeenText('2026-01-01T11:55:00Z', now), 'last seen 5m ago');
  assert.equal(lastSeenText('2026-01-01T09:00:00Z', now), 'last seen 3h ago');
  assert.equal(lastSeenText('2025-12-30T12:00:00Z', now), 'last seen 2d ago');
  assert.equal(lastSeenText(null, now), 'offline');
  assert.deepEqual([0, 1023, 1434, 10 * 1024 * 1024].map(formatBytes), ['0 B', '1023 B', '1.4 KB', '10 MB']);
  assert.deepEqual([0, 5.4, 65, NaN].map(formatDuration), ['0:00', '0:05', '1:05', '0:00']);
});

test('waveform bars are slice peaks scaled to the loudest', () => {
  const samples = new Float32Array(1000);
  samples[5] = -0.5; samples[995] = 0.25;
  const bars = barsFromSamples(samples, 100);
  assert.equal(bars.length, 100);
  assert.equal(bars[0], 1);
  assert.equal(bars[99], 0.5);
  assert.equal(bars[50], 0);
  assert.deepEqual(barsFromSamples(new Float32Array(0), 4), [0, 0, 0, 0]);
  assert.equal(barsFromSamples(new Float32Array(3).fill(0.2), 10).length, 10, 'fewer samples than bars still gives every bar');
});

test('unread counts read as numbers up to 999, then 999+ (the server stops counting at 1,000)', () => {
  assert.equal(unreadLabel(1), '1');
  assert.equal(unreadLabel(999), '999');
  assert.equal(unreadLabel(1000), '999+');
  assert.equal(unreadLabel(1003), '999+', 'live increments past the cap');
});

test('group notices read as sentences, stand alone in the timeline and are never "my last message"', () => {
  const at = (min) => `2026-12-01T10:0${min}:00.000Z`;
  const notice = (content, senderId) => ({ id: `n-${content}`, type: 'system', content, senderId, senderDisplayName: 'Cat', createdAt: at(1) });
  assert.equal(noticeText(notice('joined', 'cat'), 'me'), 'Cat joined');
  assert.equal(noticeText(notice('added', 'me'), 'me'), 'You were added');
  assert.equal(noticeText(notice('removed', 'cat'), 'me'), 'Cat was removed');
  assert.equal(previewText(notice('left', 'cat'), 'me'), 'Cat left');
  const mine = { id: 'm1', type: 'text', content: 'hi', senderId: 'me', status: 'delivered', createdAt: at(0) };
  const later = { id: 'm2', type: 'text', content: 'yo', senderId: 'me', status: 'sent', createdAt: at(2) };
  const items = timeline([mine, notice('joined', 'cat'), later]);
  assert.deepEqual(items.map((i) => i.kind), ['day', 'group', 'notice', 'group'], 'a notice splits my bubbles');
  assert.equal(deliveryStatus([mine, notice('joined', 'me')], 'me').text, 'Delivered', 'the line stays under my last message');
});
