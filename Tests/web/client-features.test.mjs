// Pure helpers of the issue-15 client features: links in text, preview-card caching, the
// timeline (days, groups, the unread marker), status ticks, "Read by N" and day labels.
import test from 'node:test';
import assert from 'node:assert/strict';
import { linkParts, linkHref, firstWebLink, LinkPreviews } from '../../Public/lib/links.js';
import { timeline, messageTicks, deliveryStatus, applyStatus, mergeMessages, dayKey } from '../../Public/lib/messages.js';
import { dayLabel } from '../../Public/lib/time.js';

test('links: http, https, mailto and www. become links; the rest of the text is kept as it was', () => {
  const text = 'see https://example.com/a?b=1, write to mailto:a@b.org or www.chatr.dev.';
  const parts = linkParts(text);
  assert.equal(parts.map((p) => p.text).join(''), text, 'joining the parts gives the text back');
  assert.deepEqual(parts.filter((p) => p.href).map((p) => p.href),
    ['https://example.com/a?b=1', 'mailto:a@b.org', 'https://www.chatr.dev']);
});

test('links: javascript:, data: and other schemes are never links', () => {
  for (const text of ['javascript:alert(1)', 'data:text/html,<script>x</script>', 'vbscript:x', 'file:///etc/passwd', 'JaVaScRiPt:alert(1)']) {
    assert.ok(linkParts(text).every((p) => !p.href), text);
  }
  assert.equal(linkHref('javascript:alert(1)'), null);
  assert.equal(linkHref('http://'), null);
  assert.equal(linkHref('mailto:nobody'), null);
});

test('links: a closing bracket or sentence punctuation ends the link unless the link opened it', () => {
  assert.equal(linkParts('(see https://a.example/x)')[1].href, 'https://a.example/x');
  assert.equal(linkParts('https://en.wikipedia.org/wiki/Foo_(bar)!')[0].href, 'https://en.wikipedia.org/wiki/Foo_(bar)');
  assert.equal(linkParts('<https://a.example/x>')[1].href, 'https://a.example/x');
});

test('the preview card is for the first http(s) link only', () => {
  assert.equal(firstWebLink('mail mailto:a@b.org then http://one.example/ and https://two.example/'), 'http://one.example/');
  assert.equal(firstWebLink('no links here'), null);
});

test('link previews: one fetch per link, shared by concurrent asks; a failure is remembered as no card', async () => {
  const asked = [];
  const previews = new LinkPreviews(async (url) => {
    asked.push(url);
    if (url.includes('bad')) throw new Error('422');
    return { url, title: 'T', description: null, image: null };
  });
  assert.equal(previews.peek('https://a.example/'), undefined);
  const [a, b] = await Promise.all([previews.get('https://a.example/'), previews.get('https://a.example/')]);
  assert.equal(a.title, 'T');
  assert.equal(a, b);
  assert.equal(await previews.get('https://bad.example/'), null);
  assert.equal(await previews.get('https://bad.example/'), null);
  assert.equal(previews.peek('https://bad.example/'), null);
  assert.deepEqual(asked, ['https://a.example/', 'https://bad.example/']);
});

const at = (day, hh, mm) => new Date(2026, 0, day, hh, mm).toISOString();
const m = (id, sender, iso, extra = {}) => ({ id, senderId: sender, createdAt: iso, status: 'sent', ...extra });

test('timeline: a separator before each day, groups of one sender within five minutes, the unread marker splits a group', () => {
  const list = [
    m('1', 'a', at(1, 10, 0)), m('2', 'a', at(1, 10, 3)), m('3', 'a', at(1, 10, 9)),
    m('4', 'b', at(1, 10, 10)), m('5', 'b', at(1, 10, 11)),
    m('6', 'b', at(2, 9, 0)),
  ];
  const shape = timeline(list, { unreadFrom: '5' }).map((i) => (i.kind === 'group' ? i.messages.map((x) => x.id).join('') : i.kind));
  assert.deepEqual(shape, ['day', '12', '3', '4', 'unread', '5', 'day', '6']);
  assert.equal(dayKey(at(2, 0, 1)), '2026-01-02');
});

test('day labels: Today, Yesterday, else a date with the year only when it is not this year', () => {
  const now = new Date(2026, 5, 15, 12, 0);
  assert.equal(dayLabel(new Date(2026, 5, 15, 0, 1).toISOString(), now), 'Today');
  assert.equal(dayLabel(new Date(2026, 5, 14, 23, 59).toISOString(), now), 'Yesterday');
  assert.match(dayLabel(new Date(2026, 5, 10).toISOString(), now), /10/);
  assert.doesNotMatch(dayLabel(new Date(2026, 5, 10).toISOString(), now), /2026/);
  assert.match(dayLabel(new Date(2025, 5, 10).toISOString(), now), /2025/);
});

test('ticks: clock while queued, one tick sent, two delivered, two read; a group message is read once anyone read it', () => {
  assert.equal(messageTicks({ pending: true, clientMessageId: 'c' }).kind, 'queued');
  assert.equal(messageTicks({ failed: true, clientMessageId: 'c' }).kind, 'failed');
  assert.deepEqual(messageTicks({ id: 'x', status: 'sent' }), { kind: 'sent', symbol: '✓', label: 'Sent' });
  assert.equal(messageTicks({ id: 'x', status: 'delivered' }).symbol, '✓✓');
  assert.equal(messageTicks({ id: 'x', status: 'listened' }).kind, 'read');
  assert.deepEqual(messageTicks({ id: 'x', status: 'sent', groupId: 'g', readBy: ['u1', 'u2'] }), { kind: 'read', symbol: '✓✓', label: 'Read by 2' });
});

test('"Read by N" in a group: reads name their reader, are counted once, and survive a live copy without readers', () => {
  let list = [m('1', 'me', at(1, 10, 0), { groupId: 'g', readBy: [] }), m('2', 'me', at(1, 10, 1), { groupId: 'g', readBy: null })];
  assert.equal(deliveryStatus(list, 'me').text, 'Sent');
  list = applyStatus(list, { messageId: '2', status: 'read', userId: 'bob' }, 'me');
  list = applyStatus(list, { messageId: '2', status: 'read', userId: 'carol' }, 'me');
  list = applyStatus(list, { messageId: '2', status: 'read', userId: 'bob' }, 'me');
  assert.deepEqual(list.map((x) => x.readBy), [['bob', 'carol'], ['bob', 'carol']]);
  assert.equal(deliveryStatus(list, 'me').text, 'Read by 2');
  list = mergeMessages(list, [m('2', 'me', at(1, 10, 1), { groupId: 'g', readBy: null, status: 'read' })]);
  assert.equal(deliveryStatus(list, 'me').text, 'Read by 2');
  // A direct chat keeps the words the existing tests read.
  assert.equal(deliveryStatus([m('3', 'me', at(1, 10, 0), { status: 'read' })], 'me').text, 'Read');
});
