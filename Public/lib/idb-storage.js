// IndexedDB storage for the offline queue (same interface as MemoryStorage).
//
// Opening the database can wait for ever: a page of this site frozen in the back/forward cache
// while it was creating the database (left just as it first opened it) holds that upgrade, and
// Chromium neither finishes it nor evicts the page, so every later open waits behind it. Sending
// must not wait with it: after `patience` ms (or if IndexedDB fails) the entries are kept in
// memory, and moved to the database if it answers later. Meanwhile a reload would lose them, and
// entries queued by an earlier page are not seen: the next page that opens the database sends them.
import { MemoryStorage } from './offline-queue.js';

const DB_NAME = 'chatr';
const STORE = 'outbox';

function request(req) {
  return new Promise((resolve, reject) => { req.onsuccess = () => resolve(req.result); req.onerror = () => reject(req.error); });
}

export class IndexedDBStorage {
  constructor({ factory = globalThis.indexedDB, patience = 2000 } = {}) {
    this.factory = factory;
    this.patience = patience;
    this.db = null;       // once open
    this.memory = null;   // a MemoryStorage while the database keeps us waiting (or cannot be used)
    this.opening = null;
  }

  /** The database once open; null while its entries are kept in memory instead. */
  open() {
    if (this.db) return Promise.resolve(this.db);
    this.opening ??= new Promise((resolve) => {
      const inMemory = (why) => {
        if (!this.memory) console.warn(`Chatr: the outbox is kept in memory (${why}); a reload before it is sent loses it`);
        this.memory ??= new MemoryStorage();
        resolve(null);
      };
      const timer = setTimeout(() => inMemory('IndexedDB did not open in time'), this.patience);
      let req;
      try { req = this.factory.open(DB_NAME, 1); } catch (error) { clearTimeout(timer); inMemory(error?.message ?? error); return; }
      req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'clientMessageId' });
      req.onsuccess = () => { clearTimeout(timer); this.adopt(req.result); resolve(req.result); };
      req.onerror = () => { clearTimeout(timer); inMemory(req.error?.message ?? 'IndexedDB failed'); };
    });
    return this.opening;
  }

  /** The database answered (maybe late): what was kept in memory meanwhile moves into it. */
  adopt(db) {
    // Another tab upgrading the database must not wait for this one: it lets go, and opens it
    // again (or keeps the queue in memory) at its next use.
    db.onversionchange = () => {
      db.close();
      if (this.db === db) { this.db = null; this.opening = null; }
    };
    const kept = this.memory ? [...this.memory.items.values()] : [];
    this.memory = null;
    this.db = db;
    if (!kept.length) return;
    // Created before any later transaction on the store, so it runs before them.
    const tx = db.transaction(STORE, 'readwrite');
    const store = tx.objectStore(STORE);
    for (const item of kept) store.put(item);
    // Not moved (the disk full, say): they stay in memory, and so does the queue from then on.
    tx.onabort = () => {
      console.warn(`Chatr: the outbox could not be moved into IndexedDB (${tx.error?.message ?? 'aborted'}); it stays in memory`);
      if (this.db === db) this.db = null;
      this.memory ??= new MemoryStorage();
      for (const item of kept) if (!this.memory.items.has(item.clientMessageId)) this.memory.items.set(item.clientMessageId, item);
    };
  }

  async tx(mode, action, inMemory) {
    const db = (await this.open()) ?? this.db;   // the database may have answered since
    if (!db) return inMemory(this.memory);
    return request(action(db.transaction(STORE, mode).objectStore(STORE)));
  }

  all() { return this.tx('readonly', (s) => s.getAll(), (m) => m.all()); }
  put(item) { return this.tx('readwrite', (s) => s.put(item), (m) => m.put(item)); }
  delete(id) { return this.tx('readwrite', (s) => s.delete(id), (m) => m.delete(id)); }
}
