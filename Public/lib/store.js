// State in one place. Views subscribe to the slices they draw; `update` merges a patch and tells
// the subscribers which top-level keys changed, so a typing indicator does not redraw the list.

export class Store {
  constructor(initial) {
    this.state = initial;
    this.listeners = new Set();
  }

  get() { return this.state; }

  update(patch) {
    const changes = typeof patch === 'function' ? patch(this.state) : patch;
    const keys = Object.keys(changes).filter((k) => this.state[k] !== changes[k]);
    if (keys.length === 0) return;
    this.state = { ...this.state, ...changes };
    for (const listener of this.listeners) listener(this.state, new Set(keys));
  }

  /** `listener(state, changedKeys)`; returns the unsubscribe function. */
  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
