// The outbox: every text message is written here first, so nothing typed is lost to a dropped
// connection or a page reload. `flush` sends the entries oldest first with their clientMessageId,
// so a retry after an unanswered request cannot create a duplicate (the server returns the
// first message for a repeated id). Storage is pluggable: IndexedDB in the browser, memory in tests.

export class PermanentError extends Error {}

export class MemoryStorage {
  constructor() { this.items = new Map(); }
  async all() { return [...this.items.values()].map((item) => ({ ...item })); }
  async put(item) { this.items.set(item.clientMessageId, { ...item }); }
  async delete(id) { this.items.delete(id); }
}

export class OfflineQueue {
  /** @param storage {all(), put(item), delete(clientMessageId)} @param owner the signed-in user's id */
  constructor(storage, owner) {
    this.storage = storage;
    this.owner = owner;
    this.flushing = null;
  }

  /** Adds a message to send (`meta`: what the UI needs to draw it again); returns the entry (status "pending"). */
  async add({ clientMessageId, chatKey, payload, meta = null, createdAt = new Date().toISOString() }) {
    if (!clientMessageId || !chatKey || !payload) throw new TypeError('clientMessageId, chatKey and payload are required');
    const entry = { clientMessageId, owner: this.owner, chatKey, payload: { ...payload, clientMessageId }, meta, createdAt, status: 'pending', error: null };
    await this.storage.put(entry);
    return entry;
  }

  /** This user's entries, oldest first, optionally for one chat. */
  async entries(chatKey) {
    const all = (await this.storage.all()).filter((e) => e.owner === this.owner && (!chatKey || e.chatKey === chatKey));
    return all.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.clientMessageId.localeCompare(b.clientMessageId));
  }

  async remove(clientMessageId) { await this.storage.delete(clientMessageId); }

  /** Marks a failed entry pending again (the user pressed "retry"). */
  async retry(clientMessageId) {
    const entry = (await this.entries()).find((e) => e.clientMessageId === clientMessageId);
    if (entry) await this.storage.put({ ...entry, status: 'pending', error: null });
  }

  /**
   * Sends pending entries in order with `send(entry) → message`. A PermanentError (the server
   * refused the message) marks that entry failed and goes on; any other error (offline, timeout,
   * server down) stops the flush and keeps the entry for next time. One flush runs at a time.
   * Calls `onSent(entry, message)` / `onFailed(entry)` as it goes; returns how many were sent.
   */
  flush(send, { onSent = () => {}, onFailed = () => {} } = {}) {
    if (this.flushing) {
      // An entry added during a flush was not in its snapshot: go round once more at the end.
      this.again = true;
      return this.flushing;
    }
    this.flushing = (async () => {
      let sent = 0;
      try {
        do {
          this.again = false;
          for (const entry of await this.entries()) {
            if (entry.status !== 'pending') continue;
            try {
              const message = await send(entry);
              await this.storage.delete(entry.clientMessageId);
              sent++;
              onSent(entry, message);
            } catch (error) {
              if (!(error instanceof PermanentError)) return sent;
              const failed = { ...entry, status: 'failed', error: error.message };
              await this.storage.put(failed);
              onFailed(failed);
            }
          }
        } while (this.again);
        return sent;
      } finally {
        this.flushing = null;
      }
    })();
    return this.flushing;
  }
}
