// Alerts for live messages while Chatr is open: the screen-reader announcement in the open chat,
// desktop notifications (Settings → "Desktop notifications", which asks for the browser's
// permission — never at page load) and a sound (Settings → "Sound", on until turned off) for the
// other chats, or any chat while the tab is hidden. Muted chats stay quiet; mine never alert.
// While no tab is open, Web Push (push.js and the service worker) notifies instead.
import { chatKeyOfConversation, isMuted, isNotice, noticeText, previewText } from './messages.js';
import { plainIcon } from './favicon-badge.js';
import * as push from './push.js';

const DESKTOP = 'chatr.notify.desktop';   // '1' once turned on here
const SOUND = 'chatr.notify.sound';       // '0' when turned off

/**
 * `{announce, notify}` for a live message: `announce` is the text for the live region (or null),
 * `notify` the notification's `{title, body, tag}` (or null). `conversation` is the list item
 * (null for a chat not in the list yet); `previews` false hides the text ("New message").
 */
export function alertsFor(message, { myId, key, activeKey, hidden, conversation, previews, now = Date.now() }) {
  if (message.senderId === myId || message.unsent) return { announce: null, notify: null };
  // "Alice joined" is said in the open chat, and is no reason to interrupt anyone elsewhere.
  if (isNotice(message)) return { announce: key === activeKey ? noticeText(message, myId) : null, notify: null };
  const text = previewText(message);
  const sender = message.senderDisplayName || message.senderUsername || 'Someone';
  const announce = key === activeKey ? `${sender}: ${text}` : null;
  if ((key === activeKey && !hidden) || isMuted(conversation, now)) return { announce, notify: null };
  const group = conversation?.kind === 'group' ? conversation.group?.name : null;
  const body = !previews ? 'New message' : group ? `${sender}: ${text}` : text;
  return { announce, notify: { title: group || sender, body, tag: conversation?.conversationId ?? message.conversationId } };
}

/** What Settings draws: `permission` is the browser's, or 'unsupported'; `desktop` only while it stands. */
export function preferences() {
  const sound = localStorage.getItem(SOUND) !== '0';
  if (!('Notification' in window)) return { permission: 'unsupported', desktop: false, sound };
  const permission = Notification.permission;
  return { permission, desktop: permission === 'granted' && localStorage.getItem(DESKTOP) === '1', sound };
}

/** Asks for the permission (a click on the switch is what allows the browser to ask). */
export async function enableDesktop() {
  if (!('Notification' in window)) throw new Error('This browser cannot show notifications');
  const permission = await Notification.requestPermission();
  if (permission !== 'granted') {
    throw new Error(permission === 'denied' ? 'Notifications are blocked for this site in the browser' : 'Notifications were not allowed');
  }
  localStorage.setItem(DESKTOP, '1');
}

export function disableDesktop() { localStorage.removeItem(DESKTOP); }

export function setSound(on) { localStorage.setItem(SOUND, on ? '1' : '0'); }

/** A message from the socket that this client did not have before, in the chat `key`. */
export function alertNewMessage(controller, message, key) {
  const { me, active, conversations } = controller.store.get();
  const { announce, notify } = alertsFor(message, {
    myId: me.id, key, activeKey: active?.key ?? null, hidden: document.visibilityState === 'hidden',
    conversation: conversations.find((item) => chatKeyOfConversation(item) === key) ?? null,
    previews: push.state().previews,
  });
  // The shell's visually hidden live region: the message list is redrawn whole on every change,
  // so its own role="log" cannot tell what is new; this line says it once.
  const region = document.querySelector('[data-announcer]');
  if (announce && region) {
    // Emptied first: the same words twice in a row ("ok", "ok") would otherwise not be said again.
    region.textContent = '';
    requestAnimationFrame(() => { region.textContent = announce; });
  }
  if (!notify) return;
  const { desktop, sound } = preferences();
  if (desktop) showNotification(notify);
  // The sound's code is loaded with the first message that rings.
  if (sound) import('./chime.js').then(({ chime }) => chime()).catch(() => {});
}

function showNotification({ title, body, tag }) {
  let notification;
  try {
    notification = new Notification(title, { body, tag, icon: plainIcon() });
  } catch {
    // Android's Chrome only shows notifications through the service worker (whose click opens
    // the chat, as for a push); a failure there must not break the message's handling.
    navigator.serviceWorker?.ready.then((r) => r.showNotification(title, { body, tag, icon: plainIcon(), data: { conversationId: tag } }))
      .catch(() => {});
    return;
  }
  // The chat opens through its link (#/c/<id>), as from a Web Push notification.
  notification.addEventListener('click', () => {
    window.focus();
    notification.close();
    location.hash = `#/c/${tag}`;
  });
}
