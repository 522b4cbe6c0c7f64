// The outbox's IndexedDB storage when the database keeps it waiting (a page frozen while creating
// it) or cannot be used: the queue goes on in memory and moves into the database when it answers.
import test from 'node:test';
import assert from 'node:assert/strict';
import { IndexedDBStorage } from '../../Public/lib/idb-storage.js';
import { OfflineQueue } from '../../Public/lib/offline-queue.js';

const later = (fn) => setTimeout(fn, 0);

/** A request that answers on a later turn, as IndexedDB's do. */
function answered(result) {
  const req = {};
  later(() => { req.result = result; req.onsuccess?.(); });
  return req;
}

/**
 * An open database holding `rows` (clientMessageId → entry); operations apply in call order.
 * `failWrites`: every readwrite transaction aborts (a full disk) and writes nothing.
 */
function database(rows = new Map(), { failWrites = false } = {}) {
  const store = {
    getAll: () => answered([...rows.values()].map((row) => ({ ...row }))),
    put: (item) => { rows.set(item.clientMessageId, { ...item }); return answered(item.clientMessageId); },
    delete: (id) => { rows.delete(id); return answered(undefined); },
  };
  const db = { rows, closed: false, close() { db.closed = true; } };
  db.transaction = (name, mode) => {
    if (!failWrites || mode !== 'readwrite') return { objectStore: () => store };
    const tx = { error: new Error('QuotaExceededError') };
    tx.objectStore = () => ({ put: () => { later(() => tx.onabort?.()); return {}; } });
    return tx;
  };
  return db;
}

/** An indexedDB whose open is answered only when the test says so (`answer(db)` or `fail()`). */
function heldFactory() {
  const factory = { requests: [] };
  factory.open = () => { const req = {}; factory.requests.push(req); return req; };
  factory.answer = (db) => { for (const req of factory.requests) { req.result = db; req.onsuccess?.(); } };
  factory.fail = () => { for (const req of factory.requests) { req.error = new Error('quota'); req.onerror?.(); } };
  return factory;
}

const entry = (n) => ({ clientMessageId: `c${n}`, chatKey: 'u:bob', payload: { recipientId: 'bob', content: `m${n}` }, createdAt: `2026-01-01T00:00:0${n}Z` });

function quietly(t) {
  const warnings = [];
  t.mock.method(console, 'warn', (message) => warnings.push(message));
  return warnings;
}

test('a database that answers keeps the entries', async (t) => {
  const warnings = quietly(t);
  const db = database();
  const storage = new IndexedDBStorage({ factory: { open: () => answered(db) }, patience: 1000 });
  const queue = new OfflineQueue(storage, 'alice');
  await queue.add(entry(1));
  await queue.add(entry(2));
  await queue.remove('c1');
  assert.deepEqual([...db.rows.keys()], ['c2']);
  assert.deepEqual((await queue.entries()).map((e) => e.payload.content), ['m2']);
  assert.deepEqual(warnings, []);
});

test('a database that keeps the queue waiting: it goes on in memory, then moves in when it answers', async (t) => {
  const warnings = quietly(t);
  const factory = heldFactory();
  const storage = new IndexedDBStorage({ factory, patience: 20 });
  const queue = new OfflineQueue(storage, 'alice');
  const started = Date.now();
  await queue.add(entry(1));
  assert.ok(Date.now() - started < 1000, 'the add waited for the database');
  await queue.add(entry(2));
  await queue.remove('c1');
  assert.deepEqual((await queue.entries()).map((e) => e.clientMessageId), ['c2']);
  assert.equal(warnings.length, 1, 'said once that the outbox is in memory');

  // The database answers at last, with an entry an earlier page left in it.
  const db = database(new Map([['c0', { ...entry(0), owner: 'alice', status: 'pending' }]]));
  factory.answer(db);
  assert.deepEqual([...db.rows.keys()].sort(), ['c0', 'c2'], 'what was kept in memory moved in');
  await queue.add(entry(3));
  assert.deepEqual((await queue.entries()).map((e) => e.clientMessageId), ['c0', 'c2', 'c3']);
  assert.deepEqual([...db.rows.keys()].sort(), ['c0', 'c2', 'c3']);
  const sent = [];
  assert.equal(await queue.flush(async (e) => { sent.push(e.clientMessageId); return {}; }), 3);
  assert.deepEqual(sent, ['c0', 'c2', 'c3']);
  assert.equal(db.rows.size, 0);
});

test('an IndexedDB that fails, or that is missing, leaves the queue working in memory', async (t) => {
  const warnings = quietly(t);
  const factory = heldFactory();
  const failing = new OfflineQueue(new IndexedDBStorage({ factory, patience: 60_000 }), 'alice');
  const added = failing.add(entry(1));
  await new Promise(later);
  factory.fail();
  await added;
  assert.deepEqual((await failing.entries()).map((e) => e.clientMessageId), ['c1']);

  const missing = new OfflineQueue(new IndexedDBStorage({ factory: undefined, patience: 60_000 }), 'alice');
  await missing.add(entry(2));
  assert.deepEqual((await missing.entries()).map((e) => e.clientMessageId), ['c2']);
  assert.equal(warnings.length, 2);
  assert.match(warnings[0], /quota/);
});

test('entries that cannot be moved into the database when it answers stay in memory', async (t) => {
  const warnings = quietly(t);
  const factory = heldFactory();
  const queue = new OfflineQueue(new IndexedDBStorage({ factory, patience: 20 }), 'alice');
  await queue.add(entry(1));
  const db = database(new Map(), { failWrites: true });
  factory.answer(db);
  await new Promise(later);
  await new Promise(later);
  assert.equal(db.rows.size, 0);
  assert.deepEqual((await queue.entries()).map((e) => e.clientMessageId), ['c1'], 'the entry was lost');
  await queue.add(entry(2));
  assert.deepEqual((await queue.entries()).map((e) => e.clientMessageId), ['c1', 'c2']);
  assert.equal(warnings.length, 2);
  assert.match(warnings[1], /QuotaExceededError/);
});

test('another tab upgrading the database: this one lets go, then opens it again at its next use', async (t) => {
  quietly(t);
  const opened = [database(), database()];
  let opens = 0;
  const storage = new IndexedDBStorage({ factory: { open: () => answered(opened[opens++]) }, patience: 1000 });
  const queue = new OfflineQueue(storage, 'alice');
  await queue.add(entry(1));
  opened[0].onversionchange();
  assert.ok(opened[0].closed, 'the upgrade would wait for this tab');
  await queue.add(entry(2));
  assert.equal(opens, 2);
  assert.deepEqual([...opened[1].rows.keys()], ['c2']);
});
