// The web client's Socket.IO/Engine.IO packet codec, against the protocol's golden strings.
import test from 'node:test';
import assert from 'node:assert/strict';
import { decodeEngine, decodeSocket, encodeSocket, Packet, ProtocolError } from '../../Public/lib/socketio-codec.js';

test('engine packets decode to type and data', () => {
  assert.deepEqual(decodeEngine('0{"sid":"x"}'), { type: '0', data: '{"sid":"x"}' });
  assert.deepEqual(decodeEngine('2'), { type: '2', data: '' });
  assert.deepEqual(decodeEngine('42["a"]'), { type: '4', data: '2["a"]' });
  for (const bad of ['', '9', 'x', null, undefined, 42]) assert.throws(() => decodeEngine(bad), ProtocolError, String(bad));
});

test('socket packets encode to the protocol strings', () => {
  assert.equal(encodeSocket({ type: Packet.CONNECT, data: { token: 't' } }), '40{"token":"t"}');
  assert.equal(encodeSocket({ type: Packet.CONNECT }), '40');
  assert.equal(encodeSocket({ type: Packet.EVENT, data: ['message:send', { content: 'hi' }] }), '42["message:send",{"content":"hi"}]');
  assert.equal(encodeSocket({ type: Packet.EVENT, id: 12, data: ['x'] }), '4212["x"]');
  assert.equal(encodeSocket({ type: Packet.ACK, id: 3, data: [] }), '433[]');
  assert.equal(encodeSocket({ type: Packet.EVENT, nsp: '/admin', id: 1, data: ['x'] }), '42/admin,1["x"]');
  assert.equal(encodeSocket({ type: Packet.DISCONNECT }), '41');
  assert.throws(() => encodeSocket({ type: Packet.EVENT, id: -1, data: ['x'] }), ProtocolError);
  assert.throws(() => encodeSocket({ type: Packet.EVENT, id: 1.5, data: ['x'] }), ProtocolError);
});

test('socket packets decode, with namespace and ack id', () => {
  assert.deepEqual(decodeSocket('0{"sid":"abc"}'), { type: 0, nsp: '/', id: undefined, data: { sid: 'abc' } });
  assert.deepEqual(decodeSocket('2["hello",1,{"a":"b"}]'), { type: 2, nsp: '/', id: undefined, data: ['hello', 1, { a: 'b' }] });
  assert.deepEqual(decodeSocket('37[{"ok":true}]'), { type: 3, nsp: '/', id: 7, data: [{ ok: true }] });
  assert.deepEqual(decodeSocket('2/admin,5["x"]'), { type: 2, nsp: '/admin', id: 5, data: ['x'] });
  assert.deepEqual(decodeSocket('4{"message":"Authentication error"}'), { type: 4, nsp: '/', id: undefined, data: { message: 'Authentication error' } });
  assert.deepEqual(decodeSocket('1'), { type: 1, nsp: '/', id: undefined, data: undefined });
});

test('round trips keep unicode and escapes', () => {
  const data = ['message:send', { content: 'héllo "quoted" \\ ✓ 👋\n<b>', n: -1.5, nothing: null }];
  const encoded = encodeSocket({ type: Packet.EVENT, id: 42, data });
  assert.deepEqual(decodeSocket(encoded.slice(1)), { type: 2, nsp: '/', id: 42, data });
});

test('malformed socket packets are typed errors, never crashes', () => {
  const bad = ['', '9', 'a', '2', '2{"not":"array"}', '2[]', '2[1]', '2["x"', '3["x"]', '31{"a":1}', '0[1]', '4"text"',
    '5-["x",{"_placeholder":true,"num":0}]', '61-0[]', '2' + '9'.repeat(20) + '["x"]', '2/ns,["x"]x'];
  for (const text of bad) assert.throws(() => decodeSocket(text), ProtocolError, text);
});
