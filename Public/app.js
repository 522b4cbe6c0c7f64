// Chatr web client entry: restores the session, then shows sign-in, the chats, or the Test Lab
// (#/lab). Invite links (#/join/<token>) and conversation links (#/c/<conversationId>, what a
// notification opens) are followed after sign-in, or at once in a tab already signed in.
import { Api } from './lib/api.js';
import { Store } from './lib/store.js';
import { ChatController } from './lib/chat-controller.js';
import { applyTheme } from './lib/theme.js';
import { mountAuth } from './components/auth/auth.js';
import { mountShell } from './components/shell/shell.js';
import { EventLog } from './components/testlab/event-log.js';
import { lazy } from './lib/lazy.js';
import { closeAllPanels } from './components/panel/panel.js';
import { toast } from './components/toast/toast.js';
import * as push from './lib/push.js';

// Rarely used views, loaded when opened.
const joinGroupByLink = lazy(() => import('./components/groups/new-group.js'), 'joinGroupByLink');

const root = document.getElementById('app');
const api = new Api({ token: localStorage.getItem('chatr.token'), onUnauthorized: () => signOut() });
let controller = null;
let eventLog = null;
let unmount = () => {};
let view = null;   // what route() mounted: 'auth', 'lab' or 'shell'

applyTheme();
import('./lib/dev-mode.js').then(({ offerTestLab }) => offerTestLab(root));   // the ⚗ Test Lab button, in development only

function storedUser() {
  try { return JSON.parse(localStorage.getItem('chatr.user')); } catch { return null; }
}

function signOut() {
  controller?.stop();
  controller = null;
  localStorage.removeItem('chatr.token');
  localStorage.removeItem('chatr.user');
  // Nothing of this account stays for the next one to sign in here: the chat it had open, its list.
  sessionStorage.removeItem('chatr.active');
  for (const key of Object.keys(localStorage)) if (key.startsWith('chatr.list.')) localStorage.removeItem(key);
  push.forget();
  api.token = null;
  closeAllPanels();
  route();
}

async function signIn(token, user) {
  localStorage.setItem('chatr.token', token);
  localStorage.setItem('chatr.user', JSON.stringify(user));
  api.token = token;
  await start(user);
}

async function start(user) {
  const store = new Store({
    me: user, connection: 'connecting', conversations: [], listFailed: false, active: null, chats: {}, presence: {},
    typing: {}, ghost: {}, recording: {}, replyTo: null, editing: null, highlight: null, users: {},
    settings: { ghost: localStorage.getItem('chatr.ghost') === '1' },
  });
  controller = new ChatController({ api, store, onSignedOut: signOut });
  eventLog = new EventLog(controller.socket);
  route();
  try {
    await controller.start();
    controller.setMe(await api.get('/api/users/me'));
  } catch { /* offline: the stored profile and queue still work; the socket keeps retrying */ }
  // The server ties a push subscription to the session: this one (maybe just signed in) posts it.
  push.resume(api);
  openLinkedConversation() || joinLinkedGroup();
}

function route() {
  unmount();
  if (!controller) {
    view = 'auth';
    unmount = mountAuth(root, { api, onSignedIn: signIn });
    return;
  }
  view = location.hash === '#/lab' ? 'lab' : 'shell';
  if (view === 'shell') { unmount = mountShell(root, controller); return; }
  // The Test Lab is loaded when opened; leaving before it has loaded mounts nothing.
  let stop = null;
  let left = false;
  unmount = () => { left = true; stop?.(); };
  import('./components/testlab/testlab.js').then(({ mountTestLab }) => {
    if (!left && controller) stop = mountTestLab(root, controller, eventLog);
  }, () => toast('Could not load the Test Lab', 'error'));
}

/** `#/c/<conversationId>`: opens that chat (signed out, the link waits for the sign-in). */
function openLinkedConversation() {
  const link = location.hash.match(/^#\/c\/([^/]+)$/);
  if (!link || !controller) return false;
  history.replaceState(null, '', '#/');
  openConversation(link[1]);
  return true;
}

/** `#/join/<token>`: asks to join the group of that invite (signed out, the link waits for the sign-in). */
function joinLinkedGroup() {
  const link = location.hash.match(/^#\/join\/([^/]+)$/);
  if (!link || !controller) return false;
  // Back to #/ first: a reload must not ask again, and the same link followed later is a change again.
  history.replaceState(null, '', '#/');
  if (view !== 'shell') route();
  joinGroupByLink(controller, link[1]);
  return true;
}

function openConversation(conversationId) {
  if (!controller) return;
  if (view !== 'shell') route();
  controller.openConversation(conversationId).catch((err) => toast(err.message || 'Could not open that conversation', 'error'));
}

window.addEventListener('hashchange', () => {
  // The chats view stays mounted as it is: only the linked chat opens in it, or the join is asked.
  if (openLinkedConversation() || joinLinkedGroup()) return;
  // Signed out, an invite link waits in the address bar for the sign-in; the form stays as typed.
  if (location.hash.startsWith('#/join/')) return;
  route();
});

// A click on a notification while Chatr is open: the service worker asks this window to show the chat.
push.onOpenConversation(openConversation);

const user = storedUser();
if (api.token && user) start(user); else route();
