// Web Push on this device: the service worker (/sw.js), the browser's push subscription, and
// registering it with the server (POST /api/push/subscriptions). The browser's permission is
// asked for only when the person turns notifications on in Settings, never at page load.
// The server ties a subscription to the session that posted it (signing out drops it there), so
// each start of the app posts it again, and a sign-out forgets the choice on this device.

const ENABLED = 'chatr.push';            // '1' once turned on here
const PREVIEWS = 'chatr.push.previews';  // '0' when notifications should not show message text

export function supported() {
  return 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
}

/**
 * What Settings draws: `permission` is the browser's ('granted', 'denied', 'default') or
 * 'unsupported'; `enabled` only while the permission still stands.
 */
export function state() {
  const previews = localStorage.getItem(PREVIEWS) !== '0';
  if (!supported()) return { supported: false, permission: 'unsupported', enabled: false, previews };
  const permission = Notification.permission;
  return { supported: true, permission, enabled: permission === 'granted' && localStorage.getItem(ENABLED) === '1', previews };
}

/** Asks for the permission, subscribes this browser and registers it with the server. */
export async function enable(api, { previews = state().previews } = {}) {
  if (!supported()) throw new Error('This browser cannot show notifications');
  const permission = await Notification.requestPermission();
  if (permission !== 'granted') {
    throw new Error(permission === 'denied' ? 'Notifications are blocked for this site in the browser' : 'Notifications were not allowed');
  }
  await register(api, previews);
  localStorage.setItem(ENABLED, '1');
}

/** Unsubscribes this browser and tells the server to forget it. */
export async function disable(api) {
  const subscription = supported() ? await currentSubscription() : null;
  if (subscription) {
    // The server first: if that fails (offline), it stays on and the switch can be tried again.
    try {
      await api.delete('/api/push/subscriptions', { endpoint: subscription.endpoint });
    } catch (error) {
      if (error.status !== 404) throw error;   // 404: already gone there
    }
    await subscription.unsubscribe().catch(() => false);
  }
  localStorage.removeItem(ENABLED);
}

/** "Show message text": remembered here, and sent with the subscription when it is on. */
export async function setPreviews(api, previews) {
  if (state().enabled) await register(api, previews);
  localStorage.setItem(PREVIEWS, previews ? '1' : '0');
}

/** At app start (after sign-in too): posts the subscription again for this session. */
export async function resume(api) {
  const { enabled, previews } = state();
  if (!enabled) return;
  try {
    await register(api, previews);
  } catch { /* offline or push turned off on the server: the next start tries again */ }
}

/** Sign-out: the server dropped the subscription with the session; this device forgets it too. */
export function forget() {
  localStorage.removeItem(ENABLED);
  if (supported()) currentSubscription().then((s) => s?.unsubscribe()).catch(() => {});
}

/** `open(conversationId)` when a click on a notification asks an open window to show its chat. */
export function onOpenConversation(open) {
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.addEventListener('message', (event) => {
    const { type, conversationId } = event.data ?? {};
    if (type === 'open-conversation' && typeof conversationId === 'string' && conversationId) open(conversationId);
  });
  // Messages wait in a queue until this is called (or the page has loaded).
  navigator.serviceWorker.startMessages();
}

async function register(api, previews) {
  await navigator.serviceWorker.register('/sw.js', { scope: '/' });
  // Subscribing needs an active worker; `ready` is the registration once it has one.
  const registration = await navigator.serviceWorker.ready;
  const { publicKey } = await api.get('/api/push/key');
  const serverKey = bytesOfBase64URL(publicKey);
  let subscription = await registration.pushManager.getSubscription();
  // One made with another server key (the server's keys were replaced) would be refused by the
  // push service: start again with the current one.
  const subscribedKey = subscription?.options?.applicationServerKey;
  if (subscription && subscribedKey && !sameBytes(new Uint8Array(subscribedKey), serverKey)) {
    await subscription.unsubscribe();
    subscription = null;
  }
  subscription ??= await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: serverKey });
  const { endpoint, keys } = subscription.toJSON();
  await api.post('/api/push/subscriptions', { endpoint, keys, previews });
}

async function currentSubscription() {
  const registration = await navigator.serviceWorker.getRegistration('/');
  return registration ? registration.pushManager.getSubscription() : null;
}

/** The server's key is base64url without padding; the browser wants the bytes. */
export function bytesOfBase64URL(text) {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(text.length / 4) * 4, '=');
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

function sameBytes(a, b) {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
