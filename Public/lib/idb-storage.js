// IndexedDB storage for the offline queue (same interface as MemoryStorage).
const DB_NAME = 'chatr';
const STORE = 'outbox';

function request(req) {
  return new Promise((resolve, reject) => { req.onsuccess = () => resolve(req.result); req.onerror = () => reject(req.error); });
}

export class IndexedDBStorage {
  constructor() { this.db = null; }

  async open() {
    if (this.db) return this.db;
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'clientMessageId' });
    this.db = await request(req);
    return this.db;
  }

  async tx(mode, action) {
    const db = await this.open();
    const store = db.transaction(STORE, mode).objectStore(STORE);
    return request(action(store));
  }

  all() { return this.tx('readonly', (s) => s.getAll()); }
  put(item) { return this.tx('readwrite', (s) => s.put(item)); }
  delete(id) { return this.tx('readwrite', (s) => s.delete(id)); }
}
