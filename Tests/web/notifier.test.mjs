// Pure rules of the alerts for live messages (notifier.js): who is announced, who gets a desktop
// notification (and the sound), with which title and text; and the favicon badge's text.
import test from 'node:test';
import assert from 'node:assert/strict';
import { alertsFor } from '../../Public/lib/notifier.js';
import { badgeText } from '../../Public/lib/favicon-badge.js';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const fromBob = { id: 'm1', conversationId: 'c-bob', senderId: 'bob', senderDisplayName: 'Bob', type: 'text', content: 'hello' };
const direct = { conversationId: 'c-bob', kind: 'direct', user: { id: 'bob' }, mutedUntil: null };
const base = { myId: 'me', key: 'u:bob', activeKey: 'u:carol', hidden: false, conversation: direct, previews: true, now: NOW };

test('a message in another chat notifies with the sender, the text and the conversation as tag', () => {
  assert.deepEqual(alertsFor(fromBob, base), { announce: null, notify: { title: 'Bob', body: 'hello', tag: 'c-bob' } });
});

test('a message in the open chat is announced, and notifies only while the tab is hidden', () => {
  assert.deepEqual(alertsFor(fromBob, { ...base, activeKey: 'u:bob' }), { announce: 'Bob: hello', notify: null });
  assert.deepEqual(alertsFor(fromBob, { ...base, activeKey: 'u:bob', hidden: true }).notify, { title: 'Bob', body: 'hello', tag: 'c-bob' });
});

test('my own messages and unsent ones set off nothing', () => {
  const nothing = { announce: null, notify: null };
  assert.deepEqual(alertsFor({ ...fromBob, senderId: 'me' }, { ...base, activeKey: 'u:bob' }), nothing);
  assert.deepEqual(alertsFor({ ...fromBob, unsent: true }, base), nothing);
});

test('a muted chat stays quiet until its mute ends, but is still announced when open', () => {
  const muted = { ...direct, mutedUntil: '2026-03-01T13:00:00Z' };
  assert.equal(alertsFor(fromBob, { ...base, conversation: muted }).notify, null);
  assert.equal(alertsFor(fromBob, { ...base, conversation: muted, activeKey: 'u:bob' }).announce, 'Bob: hello');
  assert.ok(alertsFor(fromBob, { ...base, conversation: { ...direct, mutedUntil: '2026-03-01T11:00:00Z' } }).notify);
});

test('a group notifies under its name with the sender in the text; hidden previews say only "New message"', () => {
  const group = { conversationId: 'c-team', kind: 'group', group: { id: 'team', name: 'Team' } };
  const message = { ...fromBob, conversationId: 'c-team', groupId: 'team', type: 'image', caption: '' };
  assert.deepEqual(alertsFor(message, { ...base, key: 'g:team', conversation: group }).notify, { title: 'Team', body: 'Bob: 📷 Photo', tag: 'c-team' });
  assert.equal(alertsFor(message, { ...base, key: 'g:team', conversation: group, previews: false }).notify.body, 'New message');
});

test('a chat not in the list yet takes its tag from the message', () => {
  assert.equal(alertsFor(fromBob, { ...base, conversation: null }).notify.tag, 'c-bob');
});

test('the favicon badge shows the count up to 99, then "99+"', () => {
  assert.equal(badgeText(1), '1');
  assert.equal(badgeText(99), '99');
  assert.equal(badgeText(100), '99+');
});
