// Engine.IO v4 and Socket.IO v5 packet codecs for the text packets Chatr uses — no I/O, so they
// run (and are tested) in Node as well as in the browser.

export const Engine = Object.freeze({ OPEN: '0', CLOSE: '1', PING: '2', PONG: '3', MESSAGE: '4', UPGRADE: '5', NOOP: '6' });
export const Packet = Object.freeze({
  CONNECT: 0, DISCONNECT: 1, EVENT: 2, ACK: 3, CONNECT_ERROR: 4, BINARY_EVENT: 5, BINARY_ACK: 6,
});

export class ProtocolError extends Error {}

/** One Engine.IO text frame → `{type, data}`; `data` is the rest of the frame (a string). */
export function decodeEngine(frame) {
  if (typeof frame !== 'string' || frame.length === 0) throw new ProtocolError('empty or binary engine packet');
  const type = frame[0];
  if (!Object.values(Engine).includes(type)) throw new ProtocolError(`unknown engine packet type ${type}`);
  return { type, data: frame.slice(1) };
}

/** Encodes a Socket.IO packet as the payload of an Engine.IO message (prefix "4" added). */
export function encodeSocket({ type, nsp = '/', id, data }) {
  let out = Engine.MESSAGE + String(type);
  if (nsp && nsp !== '/') out += nsp + ',';
  if (id !== undefined && id !== null) {
    if (!Number.isInteger(id) || id < 0) throw new ProtocolError('ack id must be a non-negative integer');
    out += String(id);
  }
  if (data !== undefined) out += JSON.stringify(data);
  return out;
}

/** Decodes the data of an Engine.IO message into `{type, nsp, id, data}`; throws ProtocolError. */
export function decodeSocket(text) {
  if (typeof text !== 'string' || text.length === 0) throw new ProtocolError('empty socket packet');
  const type = text.charCodeAt(0) - 48;
  if (!(type >= 0 && type <= 6)) throw new ProtocolError(`unknown socket packet type ${text[0]}`);
  if (type === Packet.BINARY_EVENT || type === Packet.BINARY_ACK) throw new ProtocolError('binary packets are not supported');
  let i = 1;
  let nsp = '/';
  if (text[i] === '/') {
    const comma = text.indexOf(',', i);
    const end = comma === -1 ? text.length : comma;
    nsp = text.slice(i, end);
    i = comma === -1 ? end : end + 1;
  }
  let id;
  const digits = /^\d+/.exec(text.slice(i));
  if (digits) {
    if (digits[0].length > 15) throw new ProtocolError('ack id too long');
    id = Number(digits[0]);
    i += digits[0].length;
  }
  let data;
  if (i < text.length) {
    try { data = JSON.parse(text.slice(i)); } catch { throw new ProtocolError('payload is not JSON'); }
  }
  switch (type) {
    case Packet.EVENT:
      if (!Array.isArray(data) || data.length === 0 || typeof data[0] !== 'string') throw new ProtocolError('event needs ["name", ...args]');
      break;
    case Packet.ACK:
      if (id === undefined || !Array.isArray(data)) throw new ProtocolError('ack needs an id and an array');
      break;
    case Packet.CONNECT:
    case Packet.CONNECT_ERROR:
      if (data !== undefined && (typeof data !== 'object' || data === null || Array.isArray(data))) throw new ProtocolError('connect payload must be an object');
      break;
    default:
      break;
  }
  return { type, nsp, id, data };
}
