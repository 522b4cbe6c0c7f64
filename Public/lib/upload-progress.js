// How far each file being uploaded is, by clientMessageId, in whole percent. Kept out of the
// store on purpose: a change there redraws the whole message list, which on every progress
// event would take the keyboard focus off the upload's Cancel button. The list draws the value
// known when it redraws, and listeners move the bar in place between redraws.

const percents = new Map();
const listeners = new Set();

export function uploadPercent(clientMessageId) { return percents.get(clientMessageId) ?? 0; }

export function setUploadPercent(clientMessageId, percent) {
  if (percents.get(clientMessageId) === percent) return;
  percents.set(clientMessageId, percent);
  for (const listener of listeners) listener(clientMessageId, percent);
}

export function forgetUpload(clientMessageId) { percents.delete(clientMessageId); }

/** `listener(clientMessageId, percent)` on every change; returns the function that stops it. */
export function onUploadPercent(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
