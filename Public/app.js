// Chatr web client entry: restores the session, then shows sign-in, the chats, or the Test Lab
// (#/lab). Invite links (#/join/<groupId>) join the group after sign-in.
import { Api } from './lib/api.js';
import { Store } from './lib/store.js';
import { ChatController } from './lib/chat-controller.js';
import { applyTheme } from './lib/theme.js';
import { mountAuth } from './components/auth/auth.js';
import { mountShell } from './components/shell/shell.js';
import { mountTestLab, EventLog } from './components/testlab/testlab.js';
import { joinGroupByLink } from './components/groups/new-group.js';
import { closeAllPanels } from './components/panel/panel.js';

const root = document.getElementById('app');
const api = new Api({ token: localStorage.getItem('chatr.token'), onUnauthorized: () => signOut() });
let controller = null;
let eventLog = null;
let unmount = () => {};

applyTheme();

function storedUser() {
  try { return JSON.parse(localStorage.getItem('chatr.user')); } catch { return null; }
}

function signOut() {
  controller?.stop();
  controller = null;
  localStorage.removeItem('chatr.token');
  localStorage.removeItem('chatr.user');
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
    me: user, connection: 'connecting', conversations: [], active: null, chats: {}, presence: {},
    typing: {}, ghost: {}, recording: {}, replyTo: null, editing: null, highlight: null,
    settings: { ghost: localStorage.getItem('chatr.ghost') === '1' },
  });
  controller = new ChatController({ api, store, onSignedOut: signOut });
  eventLog = new EventLog(controller.socket);
  route();
  try {
    await controller.start();
    controller.setMe(await api.get('/api/users/me'));
  } catch { /* offline: the stored profile and queue still work; the socket keeps retrying */ }
  const join = location.hash.match(/^#\/join\/(.+)$/);
  if (join) { history.replaceState(null, '', '#/'); joinGroupByLink(controller, join[1]); }
}

function route() {
  unmount();
  if (!controller) {
    unmount = mountAuth(root, { api, onSignedIn: signIn });
    return;
  }
  unmount = location.hash === '#/lab' ? mountTestLab(root, controller, eventLog) : mountShell(root, controller);
}

window.addEventListener('hashchange', () => { if (!location.hash.startsWith('#/join/')) route(); });

const user = storedUser();
if (api.token && user) start(user); else route();
