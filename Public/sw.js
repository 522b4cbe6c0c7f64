// Chatr's service worker: Web Push only. It shows the notifications the server pushes while no
// tab of Chatr is connected, and a click on one brings Chatr up at that conversation. No fetch
// handler and no caches: the page works offline through its own queue, not through this worker.
// At the site root so its scope is "/" (the page and every #/c/<id> link are under it).

// A new version takes over at once: there is no cached state that could go stale under it.
self.addEventListener('install', () => self.skipWaiting());

/** The server's payload (see the push contract); anything unreadable still gets a notification. */
function readPayload(event) {
  try { return event.data?.json() ?? {}; } catch { return {}; }
}

/** Title and options of the notification for one push. */
function notificationFor(payload) {
  const count = Number(payload.count) > 1 ? Number(payload.count) : 1;
  // Only a preview carries the message id; without one the body is a fixed "New message".
  const preview = Boolean(payload.messageId) && typeof payload.body === 'string';
  let body = preview ? payload.body : 'New message';
  if (count > 1) body = preview ? `${count} new messages · ${payload.body}` : `${count} new messages`;
  const conversationId = typeof payload.conversationId === 'string' ? payload.conversationId : '';
  const options = {
    body,
    // One notification per conversation: a newer push replaces it, and still rings (renotify).
    tag: conversationId || 'chatr',
    renotify: true,
    data: { url: sameOriginURL(payload.url), conversationId },
  };
  const sentAt = Date.parse(payload.sentAt);
  if (!Number.isNaN(sentAt)) options.timestamp = sentAt;
  return { title: typeof payload.title === 'string' && payload.title ? payload.title : 'Chatr', options };
}

/** Only this site's pages are opened from a notification. */
function sameOriginURL(url) {
  try {
    const parsed = new URL(url, self.location.origin);
    if (parsed.origin === self.location.origin) return parsed.href;
  } catch { /* not a URL */ }
  return new URL('/', self.location.origin).href;
}

self.addEventListener('push', (event) => {
  const { title, options } = notificationFor(readPayload(event));
  event.waitUntil(self.registration.showNotification(title, options));
});

/**
 * An open Chatr window is focused and told which conversation to show (app.js listens for
 * `open-conversation`); with none open, the conversation's link is opened in a new one.
 */
async function openConversation({ url, conversationId }) {
  // Only the app's own page: not a tab on /api/docs or on an uploaded file.
  const windows = (await self.clients.matchAll({ type: 'window', includeUncontrolled: true }))
    .filter((w) => new URL(w.url).pathname === '/');
  const open = windows.find((w) => w.focused) ?? windows[0];
  if (!open) return self.clients.openWindow(url);
  // Focusing needs the click's user activation; without it the message still switches the chat.
  try { await open.focus(); } catch { /* not allowed here */ }
  open.postMessage({ type: 'open-conversation', conversationId });
  return open;
}

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const { url, conversationId } = event.notification.data ?? {};
  event.waitUntil(openConversation({ url: sameOriginURL(url), conversationId }));
});
