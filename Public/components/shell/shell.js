// The signed-in layout: conversation list beside the chat (one at a time on a phone), the
// connection indicator, the unread count in the tab's title and on its icon, the live region
// that announces new messages (written by notifier.js) and the keyboard shortcuts.
import { html, render } from '../../lib/html.js';
import { mountSidebar } from '../sidebar/sidebar.js';
import { mountChatView } from '../chat/chat-view.js';
import { unreadLabel } from '../../lib/messages.js';
import { showUnreadOnFavicon } from '../../lib/favicon-badge.js';
import { attachShortcuts } from '../../lib/shortcuts.js';

const CONNECTION_TEXT = { online: 'Connected', connecting: 'Connecting…', offline: 'Offline — messages will be sent when you are back' };

export function mountShell(root, controller) {
  render(root, html`
    <div class="shell">
      <div class="connection" role="status" aria-live="polite" data-connection></div>
      <div class="visually-hidden" aria-live="polite" data-announcer></div>
      <div class="app">
        <aside class="sidebar" aria-label="Conversations"></aside>
        <main class="chat" aria-label="Chat"></main>
      </div>
    </div>`);
  const app = root.querySelector('.app');
  const indicator = root.querySelector('[data-connection]');
  const draw = (state) => {
    const unread = state.conversations.reduce((sum, c) => sum + (c.unreadCount || 0), 0);
    document.title = unread ? `(${unreadLabel(unread)}) Chatr` : 'Chatr';
    showUnreadOnFavicon(unread);
    app.classList.toggle('chat-open', !!state.active);
    indicator.dataset.state = state.connection;
    indicator.textContent = CONNECTION_TEXT[state.connection] ?? '';
  };
  draw(controller.store.get());
  // Subscribed before the views inside: on a phone the chat is shown (chat-open) before the chat
  // view draws into it, so what it measures (the message box, the scroll position) is measured shown.
  const unsubscribe = controller.store.subscribe((state, changed) => {
    if (changed.has('active') || changed.has('connection') || changed.has('conversations')) draw(state);
  });
  const unmountSidebar = mountSidebar(root.querySelector('.sidebar'), controller);
  const unmountChat = mountChatView(root.querySelector('.chat'), controller);
  const detachShortcuts = attachShortcuts(root);
  return () => {
    unsubscribe(); unmountSidebar(); unmountChat(); detachShortcuts();
    // Signed out (or in the Test Lab), the tab no longer counts this account's unread messages.
    document.title = 'Chatr';
    showUnreadOnFavicon(0);
  };
}
