// Markup for the message list: date separators, bubbles grouped by sender (one timestamp on the
// last of a group), each kind of content, links and their preview cards, reactions, reply quotes,
// status ticks on my messages and the delivery line. Pure functions of the state, so redrawing is safe.
import { html, safeURL } from '../../lib/html.js';
import { timeline, deliveryStatus, messageTicks, noticeText, previewText } from '../../lib/messages.js';
import { linkParts, firstWebLink } from '../../lib/links.js';
import { clockTime, dayLabel, formatBytes, formatDuration } from '../../lib/time.js';
import { avatar } from '../common/avatar.js';
import { isEmojiOnly } from '../../lib/emoji-text.js';
import { uploadPercent, onUploadPercent } from '../../lib/upload-progress.js';

/**
 * `unreadFrom`: the id of the first message that was unread when the chat opened (the marker goes
 * before it). `cardOf(url)`: the preview card known for a link (undefined: not fetched yet, null: none).
 */
export function messageList(messages, { me, isGroup, hasMore, typingNames, recordingNames, unreadFrom = null, cardOf = () => null, now = new Date() }) {
  const status = deliveryStatus(messages, me.id);
  return html`
    ${hasMore ? html`<div class="load-more" data-load-more>Loading earlier messages…</div>` : html`<div class="history-start">This is the beginning of the conversation.</div>`}
    ${timeline(messages, { unreadFrom }).map((item) => {
      if (item.kind === 'day') {
        const label = dayLabel(item.at, now);
        return html`<div class="day-separator" data-day-separator role="separator" aria-label="${label}"><span>${label}</span></div>`;
      }
      if (item.kind === 'unread') return html`<div class="unread-marker" data-unread-marker role="separator" aria-label="New messages"><span>New messages</span></div>`;
      if (item.kind === 'notice') return html`<div class="notice" data-notice="${item.message.id}" role="note"><span>${noticeText(item.message, me.id)}</span></div>`;
      return senderGroup(item, { me, isGroup, status, cardOf });
    })}
    ${recordingNames.length ? html`<div class="typing-row" data-recording>🎤 ${recordingNames.join(', ')} ${recordingNames.length > 1 ? 'are' : 'is'} recording a voice message…</div>` : ''}
    ${typingNames.length ? html`<div class="typing-row" data-typing aria-label="${typingNames.join(', ')} typing">
      <span class="typing-dots"><span></span><span></span><span></span></span> ${isGroup ? `${typingNames.join(', ')} typing` : ''}</div>` : ''}`;
}

function senderGroup(group, { me, isGroup, status, cardOf }) {
  const mine = group.senderId === me.id;
  const first = group.messages[0];
  const lastIndex = group.messages.length - 1;
  return html`
    <div class="msg-group ${mine ? 'mine' : 'theirs'}" data-msg-group>
      ${!mine && isGroup ? html`<div class="msg-sender" data-sender>${avatar({ displayName: first.senderDisplayName, profileImage: first.senderProfileImage }, { size: 24 })}
        <span>${first.senderDisplayName}</span></div>` : ''}
      ${group.messages.map((m, i) => html`
        ${bubble(m, mine, me, { last: i === lastIndex, cardOf })}
        ${status && !isUploadDraft(m) && (m.id ?? m.clientMessageId) === status.id ? html`<div class="delivery ${status.failed ? 'failed' : ''}" data-delivery>${status.text}${status.failed
          ? html` — <button type="button" class="link" data-retry="${m.clientMessageId}">Retry</button> · <button type="button" class="link" data-discard="${m.clientMessageId}">Delete</button>` : ''}</div>` : ''}`)}
    </div>`;
}

/** ✓ / ✓✓ / coloured ✓✓ / 🕓 on one of my messages, with its words for screen readers and a tooltip. */
function ticks(m) {
  const t = messageTicks(m);
  return html`<span class="ticks ticks-${t.kind}" data-ticks="${t.kind}" role="img" aria-label="${t.label}" title="${t.label}">${t.symbol}</span>`;
}

/** A file of mine on its way, or refused: drawn from what the browser has (no URL yet). */
function isUploadDraft(m) { return !!m.upload && !m.id; }

function uploadState(m) {
  if (m.failed) {
    return html`<div class="delivery failed" data-upload-error role="alert">Not sent: ${m.error ?? 'the upload failed'} —
      <button type="button" class="link" data-retry="${m.clientMessageId}">Retry</button> ·
      <button type="button" class="link" data-discard="${m.clientMessageId}">Remove</button></div>`;
  }
  const percent = uploadPercent(m.clientMessageId);
  return html`<div class="delivery upload-progress" data-uploading>
    <span class="progress-track" role="progressbar" aria-label="Sending ${m.fileName}" aria-valuemin="0" aria-valuemax="100" aria-valuenow="${percent}"
      data-upload-progress="${m.clientMessageId}"><span class="progress-fill" style="width:${percent}%"></span></span>
    <span class="progress-text" data-upload-percent>${progressText(percent)}</span>
    ${percent < 100 ? html`<button type="button" class="link" data-discard="${m.clientMessageId}" aria-label="Cancel sending ${m.fileName}">Cancel</button>` : ''}</div>`;
}

// At 100 % the server has the whole file and is storing it: too late to cancel (the message
// would come back anyway through the sender's own socket).
function progressText(percent) { return percent < 100 ? `${percent}%` : 'Processing…'; }

// Between redraws of the list, a file's bar moves in place (see upload-progress.js).
onUploadPercent((clientMessageId, percent) => {
  for (const bar of document.querySelectorAll(`[data-upload-progress="${CSS.escape(clientMessageId)}"]`)) {
    bar.setAttribute('aria-valuenow', String(percent));
    bar.firstElementChild.style.width = `${percent}%`;
    bar.parentElement.querySelector('[data-upload-percent]').textContent = progressText(percent);
    if (percent >= 100) bar.parentElement.querySelector('[data-discard]')?.remove();
  }
});

function bubble(m, mine, me, { last = true, cardOf = () => null } = {}) {
  const id = m.id ?? '';
  if (isUploadDraft(m)) {
    return html`
    <div class="msg ${m.pending ? 'pending' : ''} ${m.failed ? 'failed' : ''}" data-msg="" data-cmid="${m.clientMessageId}" data-type="${m.type}" tabindex="0"
      aria-label="You: ${previewText(m)}">
      <div class="bubble"><span class="file-card"><span class="file-icon" aria-hidden="true">📎</span>
        <span><span class="file-name">${m.fileName}</span><span class="file-size">${formatBytes(m.fileSize)}</span></span></span>
        ${m.caption ? html`<p class="text">${linkedText(m.caption)}</p>` : ''}</div>
      ${uploadState(m)}
    </div>`;
  }
  return html`
    <div class="msg ${m.pending ? 'pending' : ''} ${m.failed ? 'failed' : ''} ${m.unsent ? 'unsent' : ''}" data-msg="${id}" data-cmid="${m.clientMessageId ?? ''}"
      data-type="${m.type}" tabindex="0" aria-label="${mine ? 'You' : m.senderDisplayName}: ${previewText(m)}">
      ${m.replyTo && !m.unsent ? html`<div class="quote"><strong>${m.replyTo.senderDisplayName ?? ''}</strong> ${previewText(m.replyTo)}</div>` : ''}
      <div class="bubble ${isBigEmoji(m) ? 'emoji-only' : ''}" title="${last ? '' : clockTime(m.createdAt)}">${content(m, mine)}</div>
      ${linkCard(m, cardOf)}
      ${m.reactions?.length ? reactions(m, me) : ''}
      <div class="msg-meta">
        ${last ? html`<time datetime="${m.createdAt}" data-time>${clockTime(m.createdAt)}</time>` : ''}
        ${mine && !m.unsent ? ticks(m) : ''}
        ${m.edited && !m.unsent ? html`<button type="button" class="link edited" data-history="${id}" title="Show edit history">edited</button>` : ''}
        ${id && !m.unsent ? html`<button type="button" class="icon-btn msg-menu-btn" data-menu="${id}" aria-label="Message actions" title="Message actions">⋯</button>` : ''}
      </div>
    </div>`;
}

function content(m, mine) {
  if (m.unsent) return html`<p class="text unsent-text">${mine ? 'You unsent a message' : 'This message was unsent'}</p>`;
  switch (m.type) {
    case 'image':
      return html`<button type="button" class="image-btn" data-lightbox="${m.fileUrl}" data-caption="${m.caption ?? ''}" aria-label="Open image">
        <img src="${safeURL(m.fileUrl)}" alt="${m.caption || m.fileName || 'Image'}" loading="lazy" ${imageBox(m)}></button>
        ${m.caption ? html`<p class="text">${linkedText(m.caption)}</p>` : ''}`;
    case 'audio':
    case 'voice':
      return audioPlayer(m);
    case 'video':
      return html`<video controls preload="metadata" src="${safeURL(m.fileUrl)}"></video>${fileCard(m)}`;
    case 'file':
      return fileCard(m);
    default:
      return html`<p class="text">${linkedText(m.content)}</p>`;
  }
}

/** A text of one to three emoji and nothing else: drawn large, without the bubble's background. */
function isBigEmoji(m) {
  return !m.unsent && (!m.type || m.type === 'text') && isEmojiOnly(m.content);
}

/** Text with its http(s) and mailto links made clickable; everything else stays escaped text. */
function linkedText(text) {
  return linkParts(text ?? '').map((part) => (part.href
    ? html`<a class="text-link" href="${part.href}" target="_blank" rel="noopener noreferrer">${part.text}</a>`
    : part.text));
}

/**
 * The preview card of a text message's first http(s) link: an empty slot until it is fetched
 * (chat-view fetches it and redraws), nothing when the link has none.
 */
function linkCard(m, cardOf) {
  if (m.unsent || (m.type && m.type !== 'text')) return '';
  const url = firstWebLink(m.content);
  if (!url) return '';
  const card = cardOf(url);
  if (card === undefined) return html`<div class="link-slot" data-link-slot="${url}" hidden></div>`;
  if (!card) return '';
  const href = /^https?:\/\//i.test(card.url ?? '') ? card.url : url;
  return html`<a class="link-card" data-link-card href="${href}" target="_blank" rel="noopener noreferrer">
    ${card.image ? html`<img class="link-card-image" src="${safeURL(card.image)}" alt="" loading="lazy">` : ''}
    <span class="link-card-body">
      ${card.siteName ? html`<span class="link-card-site" data-card-site>${card.siteName}</span>` : ''}
      ${card.title ? html`<span class="link-card-title" data-card-title>${card.title}</span>` : ''}
      ${card.description ? html`<span class="link-card-description" data-card-description>${card.description}</span>` : ''}
    </span></a>`;
}

const IMAGE_MAX = 260;   // px, the longer side of a thumbnail (the CSS caps it lower on a phone)

/**
 * The thumbnail's box is reserved before the image loads, so nothing below it moves when it
 * does (a chat opened at its newest message stays there). With the stored size: that shape,
 * scaled to fit; without it (older messages): a fixed 4:3 box the picture is fitted into.
 */
export function imageBox(m) {
  const width = Number(m.imageWidth);
  const height = Number(m.imageHeight);
  if (!(width > 0 && height > 0)) return html`class="unsized"`;
  const scale = Math.min(1, IMAGE_MAX / width, IMAGE_MAX / height);
  return html`class="sized" width="${width}" height="${height}" style="width:${Math.max(1, Math.round(width * scale))}px;aspect-ratio:${width} / ${height}"`;
}

function fileCard(m) {
  return html`<a class="file-card" href="${safeURL(m.fileUrl)}" download="${m.fileName ?? 'file'}" target="_blank" rel="noopener">
    <span class="file-icon" aria-hidden="true">📄</span>
    <span><span class="file-name">${m.fileName ?? 'File'}</span><span class="file-size">${formatBytes(m.fileSize)}</span></span></a>
    ${m.caption ? html`<p class="text">${linkedText(m.caption)}</p>` : ''}`;
}

/** 100 bars; audio-player.js fills them as the audio plays. */
function audioPlayer(m) {
  const bars = (m.waveform?.length ? m.waveform : new Array(100).fill(0.1)).slice(0, 200);
  return html`<div class="audio" data-audio="${m.id ?? ''}" data-src="${safeURL(m.fileUrl)}">
    <button type="button" class="icon-btn play" data-play aria-label="Play ${m.type === 'voice' ? 'voice message' : 'audio'}">▶</button>
    <span class="waveform" aria-hidden="true">${bars.map((v) => html`<span style="height:${Math.max(8, Math.round(Number(v) * 100))}%"></span>`)}</span>
    <span class="audio-time" data-audio-time>${formatDuration(m.duration)}</span>
  </div>${m.type === 'audio' && m.fileName ? html`<p class="file-size">${m.fileName}</p>` : ''}`;
}

function reactions(m, me) {
  const byEmoji = new Map();
  for (const r of m.reactions) {
    if (!byEmoji.has(r.emoji)) byEmoji.set(r.emoji, []);
    byEmoji.get(r.emoji).push(r);
  }
  return html`<div class="reactions">${[...byEmoji].map(([emoji, list]) => html`
    <button type="button" class="reaction ${list.some((r) => r.userId === me.id) ? 'mine' : ''}" data-react="${emoji}" data-id="${m.id}"
      title="${list.map((r) => r.username).join(', ')}" aria-label="${emoji} ${list.length}: ${list.map((r) => r.username).join(', ')}"><span class="reaction-emoji">${emoji}</span> ${list.length}</button>`)}</div>`;
}
