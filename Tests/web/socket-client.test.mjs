// The web client's Socket.IO client against a scripted fake WebSocket: handshake with auth,
// events and acks, heartbeat, reconnection with backoff, refusal without retry.
import test from 'node:test';
import assert from 'node:assert/strict';
import { SocketClient } from '../../Public/lib/socket.js';

class FakeWebSocket {
  static instances = [];
  constructor(url) {
    this.url = url;
    this.sent = [];
    this.readyState = 0;
    FakeWebSocket.instances.push(this);
  }
  send(text) { this.sent.push(text); }
  close() { this.readyState = 3; }
  // Server side of the script:
  open() { this.readyState = 1; }
  deliver(frame) { this.onmessage?.({ data: frame }); }
  drop() { this.readyState = 3; this.onclose?.(); }
}

const tick = (ms = 5) => new Promise((resolve) => setTimeout(resolve, ms));

function connected() {
  FakeWebSocket.instances = [];
  const client = new SocketClient('http://chat.example:3001', { auth: () => ({ token: 'tok' }), WebSocketImpl: FakeWebSocket, backoff: { min: 1, max: 5, jitter: 0 } });
  const events = [];
  for (const name of ['connect', 'disconnect', 'connect_error', 'message:received']) client.on(name, (...args) => events.push([name, ...args]));
  client.connect();
  const ws = FakeWebSocket.instances[0];
  ws.open();
  ws.deliver('0{"sid":"e1","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}');
  ws.deliver('40{"sid":"s1"}');
  return { client, ws, events };
}

test('connects over the Engine.IO WebSocket URL and sends the token in CONNECT', () => {
  const { client, ws, events } = connected();
  assert.equal(ws.url, 'ws://chat.example:3001/socket.io/?EIO=4&transport=websocket');
  assert.deepEqual(ws.sent, ['40{"token":"tok","recover":true}']);
  assert.equal(client.connected, true);
  assert.equal(client.id, 's1');
  assert.deepEqual(events, [['connect']]);
  client.disconnect();
});

test('events in, events out with acks, pongs for pings', async () => {
  const { client, ws, events } = connected();
  const logged = [];
  client.onAny((direction, event, args) => logged.push([direction, event, args]));
  ws.deliver('42["message:received",{"id":"m1"}]');
  assert.deepEqual(events.at(-1), ['message:received', { id: 'm1' }]);
  assert.equal(client.emit('typing:start', { recipientId: 'b' }), true);
  assert.equal(ws.sent.at(-1), '42["typing:start",{"recipientId":"b"}]');
  const answer = client.emitWithAck('message:react', { messageId: 'm1', emoji: '👍' });
  assert.equal(ws.sent.at(-1), '420["message:react",{"messageId":"m1","emoji":"👍"}]');
  ws.deliver('430[{"ok":true}]');
  assert.deepEqual(await answer, { ok: true });
  ws.deliver('2');
  assert.equal(ws.sent.at(-1), '3');
  ws.deliver('421["server:asks",1]');
  assert.equal(ws.sent.at(-1), '431[]', 'a server ack request is answered');
  assert.deepEqual(logged.map(([d, e]) => `${d} ${e}`), ['in message:received', 'out typing:start', 'out message:react', 'in server:asks']);
  client.disconnect();
});

test('an ack that never comes rejects after its timeout; a drop rejects pending acks', async () => {
  const { client, ws } = connected();
  await assert.rejects(client.emitWithAck('slow', {}, 20), /no answer/);
  const pending = client.emitWithAck('x', {});
  ws.drop();
  await assert.rejects(pending, /Disconnected/);
  client.disconnect();
});

test('a dropped connection reconnects with backoff and connects again', async () => {
  const { client, ws, events } = connected();
  ws.drop();
  assert.deepEqual(events.at(-1), ['disconnect', 'transport close']);
  assert.equal(client.connected, false);
  assert.equal(client.emit('typing:start', {}), false, 'nothing is sent while disconnected');
  await tick(20);
  assert.equal(FakeWebSocket.instances.length, 2, 'a new connection was opened');
  const again = FakeWebSocket.instances[1];
  again.open();
  again.deliver('0{"sid":"e2","pingInterval":25000,"pingTimeout":20000}');
  again.deliver('40{"sid":"s2"}');
  assert.equal(client.connected, true);
  assert.equal(events.filter(([name]) => name === 'connect').length, 2);
  client.disconnect();
});

test('a refused CONNECT is reported and not retried; garbage from the server drops the connection', async () => {
  FakeWebSocket.instances = [];
  const client = new SocketClient('https://chat.example', { WebSocketImpl: FakeWebSocket, backoff: { min: 1, max: 1, jitter: 0 } });
  const errors = [];
  client.on('connect_error', (e) => errors.push(e));
  client.connect();
  const ws = FakeWebSocket.instances[0];
  assert.ok(ws.url.startsWith('wss://'));
  ws.open();
  ws.deliver('0{"sid":"e","pingInterval":100,"pingTimeout":100}');
  ws.deliver('44{"message":"Authentication error"}');
  assert.deepEqual(errors, [{ message: 'Authentication error' }]);
  await tick(20);
  assert.equal(FakeWebSocket.instances.length, 1, 'no retry with a refused token');

  const { client: other, ws: live } = connected();
  live.deliver('42{"not":"an event"}');
  assert.equal(other.connected, false, 'an invalid packet closes the connection');
  other.disconnect();
});

test('a passing refusal ("Server busy") is retried with backoff until the server accepts', async () => {
  FakeWebSocket.instances = [];
  const client = new SocketClient('http://x', { WebSocketImpl: FakeWebSocket, backoff: { min: 1, max: 1, jitter: 0 } });
  const errors = [];
  client.on('connect_error', (e) => errors.push(e.message));
  client.connect();
  const first = FakeWebSocket.instances[0];
  first.open();
  first.deliver('0{"sid":"e","pingInterval":1000,"pingTimeout":1000}');
  first.deliver('44{"message":"Server busy, try again"}');
  assert.deepEqual(errors, ['Server busy, try again']);
  await tick(20);
  assert.equal(FakeWebSocket.instances.length, 2, 'it tries again');
  const second = FakeWebSocket.instances[1];
  second.open();
  second.deliver('0{"sid":"f","pingInterval":1000,"pingTimeout":1000}');
  second.deliver('40{"sid":"s"}');
  assert.equal(client.connected, true);
  client.disconnect();
});

test('no ping within interval + timeout means a dead connection: drop and reconnect', async () => {
  FakeWebSocket.instances = [];
  const client = new SocketClient('http://x', { WebSocketImpl: FakeWebSocket, backoff: { min: 1, max: 1, jitter: 0 } });
  const reasons = [];
  client.on('disconnect', (reason) => reasons.push(reason));
  client.connect();
  const ws = FakeWebSocket.instances[0];
  ws.open();
  ws.deliver('0{"sid":"e","pingInterval":10,"pingTimeout":10}');
  ws.deliver('40{"sid":"s"}');
  await tick(12);
  ws.deliver('2');
  await tick(12);
  assert.equal(client.connected, true, 'a ping in time keeps it open');
  await tick(30);
  assert.deepEqual(reasons, ['ping timeout']);
  assert.ok(FakeWebSocket.instances.length >= 2, 'it reconnects');
  client.disconnect();
});

test('connection state recovery: the pid and the last offset go back on reconnect; offsets never reach handlers', async () => {
  FakeWebSocket.instances = [];
  const client = new SocketClient('http://chat.example:3001', { auth: () => ({ token: 'tok' }), WebSocketImpl: FakeWebSocket, backoff: { min: 1, max: 5, jitter: 0 } });
  const received = [];
  client.on('message:received', (...args) => received.push(args));
  client.connect();
  let ws = FakeWebSocket.instances[0];
  ws.open();
  ws.deliver('0{"sid":"e1","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}');
  ws.deliver('40{"sid":"s1","pid":"p1"}');
  ws.deliver('42["message:received",{"id":"m1"},"k3-1"]');
  ws.deliver('42["message:received",{"id":"m2"},"k3-2"]');
  assert.deepEqual(received, [[{ id: 'm1' }], [{ id: 'm2' }]], 'the offset is taken off the arguments');
  assert.equal(client.recovered, false);
  ws.drop();
  await tick(20);
  ws = FakeWebSocket.instances[1];
  ws.open();
  ws.deliver('0{"sid":"e2","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}');
  assert.deepEqual(ws.sent, ['40{"token":"tok","recover":true,"pid":"p1","offset":"k3-2"}']);
  ws.deliver('40{"sid":"s1","pid":"p1"}');
  assert.equal(client.recovered, true, 'same sid and pid: recovered');
  ws.deliver('42["message:received",{"id":"m3"},"k3-3"]');
  ws.drop();
  await tick(20);
  ws = FakeWebSocket.instances[2];
  ws.open();
  ws.deliver('0{"sid":"e3","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}');
  assert.equal(JSON.parse(ws.sent[0].slice(2)).offset, 'k3-3');
  ws.deliver('40{"sid":"s9","pid":"p9"}');
  assert.equal(client.recovered, false, 'a new sid: a fresh connection');
  assert.equal(client.offset, null);
  client.disconnect();
});
