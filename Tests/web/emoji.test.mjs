// Emoji rules of the composer and the message list: which texts are "only emoji" (drawn large),
// the picker's search, `:shortcodes:`, the "Recent" row, and the checks made before an upload.
import test from 'node:test';
import assert from 'node:assert/strict';
import { isEmojiOnly } from '../../Public/lib/emoji-text.js';
import { findEmoji, emojiByShortcode, shortcodeBeforeCaret } from '../../Public/lib/emoji-search.js';
import { EMOJI } from '../../Public/lib/emoji-data.js';
import { recentEmoji, rememberEmoji, RECENT_LIMIT } from '../../Public/lib/recent-emoji.js';
import { uploadProblem, fileType, sizeText } from '../../Public/lib/upload-checks.js';

test('emoji-only: one to three emoji, whatever they are made of, whitespace ignored', () => {
  for (const text of ['😀', ' 🎉 ', '👍🏽', '👋🏿👋🏻', '🇬🇧', '🇬🇧🇫🇷🇯🇵', '👨‍👩‍👧‍👦', '🏳️‍🌈', '❤️', '1️⃣', '#️⃣', '😀\n🎉\t❤️', '👩🏽‍💻']) {
    assert.equal(isEmojiOnly(text), true, JSON.stringify(text));
  }
});

test('emoji-only: text, four emoji or more, numbers and empty messages are not', () => {
  for (const text of ['hi 😀', '😀!', '😀😀😀😀', '🇬🇧🇫🇷🇯🇵🇩🇪', '12', '#', 'ok', '', '   ', ':)', '😀a']) {
    assert.equal(isEmojiOnly(text), false, JSON.stringify(text));
  }
});

test('emoji-only: a family (ZWJ sequence) counts as one emoji, not as its four people', () => {
  assert.equal(isEmojiOnly('👨‍👩‍👧‍👦👨‍👩‍👧‍👦👨‍👩‍👧‍👦'), true);
  assert.equal(isEmojiOnly('👨‍👩‍👧‍👦👨‍👩‍👧‍👦👨‍👩‍👧‍👦👍'), false);
});

test('emoji list: a few hundred, each with a unique emoji and a unique shortcode', () => {
  assert.ok(EMOJI.length >= 300, `${EMOJI.length} emoji`);
  assert.equal(new Set(EMOJI.map((e) => e.emoji)).size, EMOJI.length);
  assert.equal(new Set(EMOJI.map((e) => e.name)).size, EMOJI.length);
  for (const e of EMOJI) assert.match(e.name, /^[a-z0-9_+-]+$/, e.name);
});

test('search: by name and by word, the exact name first; every word of the query must match', () => {
  assert.equal(findEmoji('heart')[0].emoji, '❤️');
  assert.ok(findEmoji('heart').some((e) => e.emoji === '😍'), 'heart_eyes by its name');
  assert.deepEqual(findEmoji('thumbs').map((e) => e.emoji), ['👍', '👎']);
  assert.ok(findEmoji('party').some((e) => e.emoji === '🎉'), 'tada by a word');
  assert.deepEqual(findEmoji('thumbs up').map((e) => e.emoji), ['👍']);
  assert.deepEqual(findEmoji('zzzqqq'), []);
  assert.equal(findEmoji('', 5).length, 5);
});

test('shortcodes: recognised after a colon at a word start and two letters; closed with a colon', () => {
  assert.deepEqual(shortcodeBeforeCaret('hello :sm', 9), { start: 6, query: 'sm', closed: false });
  assert.deepEqual(shortcodeBeforeCaret(':heart:', 7), { start: 0, query: 'heart', closed: true });
  assert.equal(shortcodeBeforeCaret('hello :s', 8), null, 'one letter is not enough');
  assert.equal(shortcodeBeforeCaret('at 12:30', 8), null, 'a time is not a shortcode');
  assert.equal(shortcodeBeforeCaret('see https://x', 13), null);
  assert.deepEqual(shortcodeBeforeCaret(':smile and more', 6), { start: 0, query: 'smile', closed: false }, 'only up to the caret');
  assert.equal(emojiByShortcode('heart'), '❤️');
  assert.equal(emojiByShortcode('Thumbs_Up'), '👍');
  assert.equal(emojiByShortcode('no_such_emoji'), null);
});

test('recent: most recently used first, no repeats, at most RECENT_LIMIT, bad storage ignored', () => {
  const store = new Map();
  const storage = { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => store.set(k, v) };
  assert.deepEqual(recentEmoji(storage), []);
  rememberEmoji('😀', storage);
  rememberEmoji('🎉', storage);
  rememberEmoji('😀', storage);
  assert.deepEqual(recentEmoji(storage), ['😀', '🎉']);
  for (const e of EMOJI.slice(0, 30)) rememberEmoji(e.emoji, storage);
  assert.equal(recentEmoji(storage).length, RECENT_LIMIT);
  assert.equal(recentEmoji(storage)[0], EMOJI[29].emoji);
  store.set('chatr.emoji.recent', '{not json');
  assert.deepEqual(recentEmoji(storage), []);
});

const LIMITS = { maxUploadBytes: 10 * 1024 * 1024, uploadTypes: ['image/png', 'image/jpeg', 'audio/webm', 'audio/mp4', 'text/plain'] };

test('upload checks: too big says the size and the limit, to a tenth', () => {
  const photo = { name: 'photo.png', type: 'image/png', size: Math.round(12.3 * 1024 * 1024) };
  assert.equal(uploadProblem(photo, LIMITS), 'photo.png is 12.3 MB; the limit is 10 MB');
  assert.equal(uploadProblem({ ...photo, size: LIMITS.maxUploadBytes }, LIMITS), null, 'exactly the limit is allowed');
  assert.equal(sizeText(1536), '1.5 KB');
  assert.equal(sizeText(900), '900 bytes');
});

test('upload checks: the type by file.type (parameters and aliases too), else by the extension', () => {
  assert.equal(fileType({ type: 'audio/webm;codecs=opus', name: 'voice.webm' }), 'audio/webm');
  assert.equal(fileType({ type: 'image/jpg', name: 'a' }), 'image/jpeg');
  assert.equal(fileType({ type: 'audio/x-m4a', name: 'a.m4a' }), 'audio/mp4');
  assert.equal(fileType({ type: '', name: 'Notes.TXT' }), 'text/plain');
  assert.equal(fileType({ type: '', name: 'noextension' }), '');
  assert.equal(uploadProblem({ name: 'notes.txt', type: '', size: 10 }, LIMITS), null);
  assert.match(uploadProblem({ name: 'setup.exe', type: 'application/x-msdownload', size: 10 }, LIMITS), /^setup\.exe cannot be sent/);
  for (const [name, type] of [['notes.md', 'text/markdown'], ['table.csv', 'text/csv'], ['data.json', 'application/json'], ['server.log', '']]) {
    assert.equal(uploadProblem({ name, type, size: 10 }, LIMITS), null, `${name}: text, for the server to judge by content`);
  }
  assert.equal(uploadProblem({ name: 'mystery', type: '', size: 10 }, LIMITS), null, 'no type: the server judges the content');
  assert.equal(uploadProblem({ name: 'setup.exe', type: 'application/x-msdownload', size: 10 }, null), null, 'no config: the server decides');
});
