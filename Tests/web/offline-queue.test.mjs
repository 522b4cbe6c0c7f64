// The offline queue: order, idempotent ids, permanent vs transient failures, one flush at a time.
import test from 'node:test';
import assert from 'node:assert/strict';
import { OfflineQueue, MemoryStorage, PermanentError } from '../../Public/lib/offline-queue.js';

const entry = (n, at) => ({ clientMessageId: `c${n}`, chatKey: 'u:bob', payload: { recipientId: 'bob', content: `m${n}` }, createdAt: at });

test('entries are kept per user, oldest first, with the clientMessageId in the payload', async () => {
  const storage = new MemoryStorage();
  const alice = new OfflineQueue(storage, 'alice');
  const other = new OfflineQueue(storage, 'zoe');
  await alice.add(entry(2, '2026-01-01T00:00:02Z'));
  await alice.add(entry(1, '2026-01-01T00:00:01Z'));
  await other.add({ ...entry(3, '2026-01-01T00:00:00Z'), clientMessageId: 'z3' });
  const list = await alice.entries();
  assert.deepEqual(list.map((e) => e.clientMessageId), ['c1', 'c2']);
  assert.equal(list[0].payload.clientMessageId, 'c1');
  assert.equal(list[0].status, 'pending');
  assert.deepEqual((await other.entries()).map((e) => e.clientMessageId), ['z3']);
  await assert.rejects(alice.add({ chatKey: 'u:bob', payload: {} }), TypeError);
});

test('flush sends in order and removes what was sent', async () => {
  const queue = new OfflineQueue(new MemoryStorage(), 'alice');
  for (let i = 1; i <= 3; i++) await queue.add(entry(i, `2026-01-01T00:00:0${i}Z`));
  const sent = [];
  const confirmed = [];
  const count = await queue.flush(async (e) => { sent.push(e.payload.content); return { id: e.clientMessageId }; },
    { onSent: (e, message) => confirmed.push(message.id) });
  assert.equal(count, 3);
  assert.deepEqual(sent, ['m1', 'm2', 'm3']);
  assert.deepEqual(confirmed, ['c1', 'c2', 'c3']);
  assert.deepEqual(await queue.entries(), []);
});

test('a transient failure stops the flush and keeps the rest for later, unchanged', async () => {
  const queue = new OfflineQueue(new MemoryStorage(), 'alice');
  for (let i = 1; i <= 3; i++) await queue.add(entry(i, `2026-01-01T00:00:0${i}Z`));
  const tried = [];
  const count = await queue.flush(async (e) => {
    tried.push(e.clientMessageId);
    if (e.clientMessageId === 'c2') throw new TypeError('Failed to fetch');
    return {};
  });
  assert.equal(count, 1);
  assert.deepEqual(tried, ['c1', 'c2'], 'nothing after the failure is tried out of order');
  const left = await queue.entries();
  assert.deepEqual(left.map((e) => [e.clientMessageId, e.status]), [['c2', 'pending'], ['c3', 'pending']]);
  // Next time the same ids go again: the server's clientMessageId check makes that safe.
  const again = [];
  await queue.flush(async (e) => { again.push(e.payload.clientMessageId); return {}; });
  assert.deepEqual(again, ['c2', 'c3']);
});

test('a refused message is marked failed and the others still go; retry makes it pending again', async () => {
  const queue = new OfflineQueue(new MemoryStorage(), 'alice');
  for (let i = 1; i <= 2; i++) await queue.add(entry(i, `2026-01-01T00:00:0${i}Z`));
  const failed = [];
  const count = await queue.flush(async (e) => {
    if (e.clientMessageId === 'c1') throw new PermanentError('Message too long');
    return {};
  }, { onFailed: (e) => failed.push(e) });
  assert.equal(count, 1);
  assert.equal(failed[0].error, 'Message too long');
  assert.deepEqual((await queue.entries()).map((e) => [e.clientMessageId, e.status]), [['c1', 'failed']]);
  assert.equal(await queue.flush(async () => assert.fail('failed entries are not resent by themselves')), 0);
  await queue.retry('c1');
  assert.equal((await queue.entries())[0].status, 'pending');
});

test('one flush at a time; an entry added meanwhile is sent by the running flush', async () => {
  const queue = new OfflineQueue(new MemoryStorage(), 'alice');
  await queue.add(entry(1, '2026-01-01T00:00:01Z'));
  let release;
  const gate = new Promise((resolve) => { release = resolve; });
  const sent = [];
  const send = async (e) => { sent.push(e.clientMessageId); if (e.clientMessageId === 'c1') await gate; return {}; };
  const first = queue.flush(send);
  await queue.add(entry(2, '2026-01-01T00:00:02Z'));
  const second = queue.flush(send);
  assert.equal(first, second, 'the second call joins the running flush');
  release();
  assert.equal(await first, 2);
  assert.deepEqual(sent, ['c1', 'c2'], 'each sent exactly once');
});
