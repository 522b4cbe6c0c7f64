// What the server accepts (client-config.js), and the checks made with it
// before a file is sent: too big or of a type the server refuses, it is not sent at all (the
// person learns why at once instead of after uploading megabytes). The server still decides by
// the file's content; these checks only spare a pointless upload.

// Types browsers report under other names than the server's list.
const ALIASES = { 'image/jpg': 'image/jpeg', 'audio/x-wav': 'audio/wav', 'audio/wave': 'audio/wav', 'audio/vnd.wave': 'audio/wav',
  'audio/x-m4a': 'audio/mp4', 'audio/m4a': 'audio/mp4', 'audio/mp3': 'audio/mpeg' };
// A file without a type (some systems give none): judged by its name's extension.
const BY_EXTENSION = { jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', gif: 'image/gif', webp: 'image/webp',
  mp3: 'audio/mpeg', m4a: 'audio/mp4', ogg: 'audio/ogg', oga: 'audio/ogg', opus: 'audio/ogg', wav: 'audio/wav', weba: 'audio/webm',
  mp4: 'video/mp4', webm: 'video/webm', pdf: 'application/pdf', txt: 'text/plain', doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document' };

/** A file's type as the server's list names it ("audio/webm;codecs=opus" is audio/webm). */
export function fileType(file) {
  const type = (file.type || '').split(';')[0].trim().toLowerCase();
  if (type) return ALIASES[type] ?? type;
  const extension = /\.([a-z0-9]+)$/i.exec(file.name ?? '')?.[1]?.toLowerCase();
  return BY_EXTENSION[extension] ?? '';
}

/**
 * Sizes in limit messages keep one decimal (formatBytes rounds from 10 up, and "10 MB is over
 * the 10 MB limit" would say nothing): 12.3 MB, 10 MB.
 */
export function sizeText(bytes) {
  const units = ['bytes', 'KB', 'MB', 'GB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
  return `${unit ? String(Math.round(value * 10) / 10) : value} ${units[unit]}`;
}

/**
 * The server takes any UTF-8 text as a text file, whatever it is called (.md, .csv, .json, .log):
 * a file of a textual or unknown type is left for it to judge by content.
 */
function mayBeText(type) {
  return !type || type.startsWith('text/') || /[/+](json|xml)$/.test(type);
}

/** Why the server would refuse `file`, or null. Without a config nothing is refused here. */
export function uploadProblem(file, limits) {
  if (!limits) return null;
  const name = file.name || 'This file';
  if (limits.maxUploadBytes && file.size > limits.maxUploadBytes) {
    return `${name} is ${sizeText(file.size)}; the limit is ${sizeText(limits.maxUploadBytes)}`;
  }
  const type = fileType(file);
  if (Array.isArray(limits.uploadTypes) && !limits.uploadTypes.includes(type) && !mayBeText(type)) {
    return `${name} cannot be sent: files of type ${type || 'unknown'} are not accepted`;
  }
  return null;
}
