// A small Socket.IO v4 client: Engine.IO v4 over WebSocket, the default namespace, events with
// acks, heartbeat supervision, reconnection with backoff, and connection state recovery (the
// server's `pid` and the offset of the last broadcast are sent back on reconnect, so events
// missed while away are replayed; `recovered` says whether they were). Chatr needs no binary
// events (files go over HTTP), so they are not implemented. Every packet in and out can be
// observed (Test Lab).
import { Engine, Packet, decodeEngine, decodeSocket, encodeSocket } from './socketio-codec.js';
import { backoffDelay } from './backoff.js';

export class SocketClient {
  /**
   * @param {string} url  base URL of the server, e.g. location.origin
   * @param {{auth?: () => object, path?: string, WebSocketImpl?: typeof WebSocket, backoff?: object}} options
   */
  constructor(url, options = {}) {
    this.url = url.replace(/^http/, 'ws').replace(/\/$/, '') + (options.path ?? '/socket.io/') + '?EIO=4&transport=websocket';
    this.auth = options.auth ?? (() => ({}));
    this.WebSocketImpl = options.WebSocketImpl ?? globalThis.WebSocket;
    this.backoff = options.backoff ?? {};
    this.handlers = new Map();
    this.anyHandlers = new Set();
    this.acks = new Map();
    this.nextAckId = 0;
    this.state = 'idle'; // idle | connecting | connected | waiting (to reconnect) | closed
    this.attempt = 0;
    this.ws = null;
    this.id = null;
    // Connection state recovery: the server's private id for this socket, the offset of the
    // last broadcast received, and whether the current connection took the old one back.
    this.pid = null;
    this.offset = null;
    this.recovered = false;
  }

  get connected() { return this.state === 'connected'; }

  on(event, handler) {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event).add(handler);
    return () => this.handlers.get(event)?.delete(handler);
  }

  /** `handler(direction, event, args)` for every event in ("in") and out ("out"). */
  onAny(handler) {
    this.anyHandlers.add(handler);
    return () => this.anyHandlers.delete(handler);
  }

  connect() {
    if (this.state === 'connecting' || this.state === 'connected') return;
    clearTimeout(this.retryTimer);
    this.open();
  }

  /** Closes for good (logout): no reconnection until `connect()` is called again. */
  disconnect() {
    this.state = 'closed';
    this.pid = this.offset = null;
    clearTimeout(this.retryTimer);
    if (this.ws) { this.send(encodeSocket({ type: Packet.DISCONNECT })); this.teardown('io client disconnect'); }
  }

  /** Drops the transport and reconnects with backoff (e.g. when the browser says it went offline). */
  drop(reason = 'transport close') {
    if (this.ws) this.teardown(reason);
  }

  /** Fire-and-forget; returns false when not connected (the event is not queued). */
  emit(event, ...args) {
    if (!this.connected) return false;
    this.notifyAny('out', event, args);
    this.send(encodeSocket({ type: Packet.EVENT, data: [event, ...args] }));
    return true;
  }

  /** Emits with an ack; resolves with the ack's first argument, rejects on timeout or disconnect. */
  emitWithAck(event, payload, timeout = 10000) {
    if (!this.connected) return Promise.reject(new Error('Not connected'));
    const id = this.nextAckId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.acks.delete(id); reject(new Error(`${event}: no answer in ${timeout} ms`)); }, timeout);
      this.acks.set(id, { resolve: (v) => { clearTimeout(timer); resolve(v); }, reject: (e) => { clearTimeout(timer); reject(e); } });
      const args = payload === undefined ? [] : [payload];
      this.notifyAny('out', event, args);
      this.send(encodeSocket({ type: Packet.EVENT, id, data: [event, ...args] }));
    });
  }

  // --- internals ---

  open() {
    this.setState('connecting');
    let ws;
    try { ws = new this.WebSocketImpl(this.url); } catch (error) { this.scheduleReconnect(String(error)); return; }
    this.ws = ws;
    ws.onmessage = (e) => { if (ws === this.ws) this.receive(e.data); };
    ws.onclose = () => { if (ws === this.ws) this.teardown('transport close'); };
    ws.onerror = () => { if (ws === this.ws) this.teardown('transport error'); };
  }

  receive(frame) {
    let packet;
    try { packet = decodeEngine(frame); } catch { this.teardown('parse error'); return; }
    switch (packet.type) {
      case Engine.OPEN: {
        const open = JSON.parse(packet.data);
        this.pingDeadline = open.pingInterval + open.pingTimeout;
        this.armHeartbeat();
        this.send(encodeSocket({ type: Packet.CONNECT, data: this.connectPayload() }));
        break;
      }
      case Engine.PING:
        this.armHeartbeat();
        this.send(Engine.PONG);
        break;
      case Engine.CLOSE:
        this.teardown('transport close');
        break;
      case Engine.MESSAGE:
        this.receiveSocket(packet.data);
        break;
      default:
        break;
    }
  }

  receiveSocket(text) {
    let packet;
    try { packet = decodeSocket(text); } catch { this.teardown('parse error'); return; }
    if (packet.nsp !== '/') return;
    switch (packet.type) {
      case Packet.CONNECT:
        // Same id as before and the same pid: the server took the old socket back.
        this.recovered = Boolean(this.pid && packet.data?.pid === this.pid && packet.data?.sid === this.id);
        this.id = packet.data?.sid ?? null;
        this.pid = packet.data?.pid ?? null;
        if (!this.recovered) this.offset = null;
        this.attempt = 0;
        this.setState('connected');
        this.dispatch('connect', []);
        break;
      case Packet.CONNECT_ERROR:
        // A refused token cannot get better by retrying: closed until the app acts. Anything else
        // ("Server busy, try again": the server could not load what a connection needs) is
        // passing, so it reconnects with backoff like a lost connection.
        if (isFinalRefusal(packet.data)) this.state = 'closed';
        this.dispatch('connect_error', [packet.data ?? {}]);
        this.teardown('connect error');
        break;
      case Packet.DISCONNECT:
        this.state = 'closed';
        this.teardown('io server disconnect');
        break;
      case Packet.EVENT: {
        const [event, ...args] = packet.data;
        // A broadcast's last argument is its offset (we asked for them with `recover: true`).
        if (this.pid && packet.id === undefined && args.length >= 1 && /^[0-9a-z]+-[0-9a-z]+$/.test(args[args.length - 1])) {
          this.offset = args.pop();
        }
        this.notifyAny('in', event, args);
        if (packet.id !== undefined) {
          // Chatr's server never asks the web client for acks, but answer so a server waiting can go on.
          this.send(encodeSocket({ type: Packet.ACK, id: packet.id, data: [] }));
        }
        this.dispatch(event, args);
        break;
      }
      case Packet.ACK: {
        const pending = this.acks.get(packet.id);
        if (pending) { this.acks.delete(packet.id); pending.resolve(packet.data[0]); }
        break;
      }
      default:
        break;
    }
  }

  /** The app's auth, asking for offsets, and — once the server gave a pid — what recovery needs. */
  connectPayload() {
    const payload = { ...this.auth(), recover: true };
    if (this.pid && this.offset) { payload.pid = this.pid; payload.offset = this.offset; }
    return payload;
  }

  armHeartbeat() {
    clearTimeout(this.heartbeatTimer);
    // No ping within interval + timeout: the connection is dead even if the socket says open.
    this.heartbeatTimer = setTimeout(() => this.teardown('ping timeout'), this.pingDeadline ?? 45000);
  }

  send(text) {
    if (this.ws && this.ws.readyState === 1) this.ws.send(text);
  }

  teardown(reason) {
    const ws = this.ws;
    this.ws = null;
    clearTimeout(this.heartbeatTimer);
    if (ws) {
      ws.onmessage = ws.onclose = ws.onerror = null;
      try { ws.close(); } catch { /* already closed */ }
    }
    const wasConnected = this.state === 'connected';
    for (const pending of this.acks.values()) pending.reject(new Error('Disconnected'));
    this.acks.clear();
    if (wasConnected || reason === 'io server disconnect' || reason === 'io client disconnect') this.dispatch('disconnect', [reason]);
    if (this.state === 'closed') { this.setState('closed'); return; }
    this.scheduleReconnect(reason);
  }

  scheduleReconnect(reason) {
    const delay = backoffDelay(this.attempt++, this.backoff);
    this.setState('waiting');
    this.dispatch('reconnect_attempt', [{ attempt: this.attempt, delay, reason }]);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => { if (this.state === 'waiting') this.open(); }, delay);
  }

  setState(state) {
    if (this.state === state && state !== 'connecting') return;
    this.state = state;
    this.dispatch('state', [state]);
  }

  notifyAny(direction, event, args) {
    for (const handler of this.anyHandlers) handler(direction, event, args);
  }

  dispatch(event, args) {
    for (const handler of this.handlers.get(event) ?? []) {
      try { handler(...args); } catch (error) { console.error(`handler for ${event} failed`, error); }
    }
  }
}

/** Whether a CONNECT_ERROR means the credentials were refused (as opposed to a passing failure). */
export function isFinalRefusal(data) {
  return data?.message === 'Authentication error';
}
