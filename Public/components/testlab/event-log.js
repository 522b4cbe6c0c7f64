// The socket events a Test Lab shows: kept from the moment the socket is created (so the lab,
// loaded only when opened, shows history too). Small, and loaded with the app.

/** Keeps the last events from the moment the socket is created, so the lab shows history too. */
export class EventLog {
  constructor(socket, limit = 1000) {
    this.entries = [];
    this.limit = limit;
    this.listeners = new Set();
    socket.onAny((direction, event, args) => this.add(direction, event, args));
    for (const event of ['connect', 'disconnect', 'connect_error', 'reconnect_attempt']) socket.on(event, (...args) => this.add('note', event, args));
  }

  add(direction, event, args) {
    this.entries.push({ direction, event, args, at: new Date().toISOString() });
    if (this.entries.length > this.limit) this.entries.splice(0, this.entries.length - this.limit);
    for (const listener of this.listeners) listener();
  }

  subscribe(listener) { this.listeners.add(listener); return () => this.listeners.delete(listener); }
}
