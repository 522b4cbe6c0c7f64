// In development the Test Lab is one click away: a ⚗ button in the chats header. The server says
// which mode it runs in (GET /api/client-config); in testing and production the lab stays where it
// always is, behind Settings.

/** The decision, pure so it is tested in Node: only a server in development shows the button. */
export function showsTestLabButton(config) {
  return config?.mode === 'development';
}

/**
 * Asks the server's mode once; in development, adds the button to the chats header each time the
 * app mounts it (the header is drawn again after the Test Lab, a sign-in, any route).
 */
export async function offerTestLab(root) {
  const { clientConfig } = await import('./client-config.js');
  if (!showsTestLabButton(await clientConfig())) return;
  const addButton = () => {
    const header = root.querySelector('.sidebar-header');
    if (!header || header.querySelector('[data-test-lab]')) return;
    const link = document.createElement('a');
    link.className = 'icon-btn';
    link.href = '#/lab';
    link.dataset.testLab = '';
    link.textContent = '⚗';
    link.setAttribute('aria-label', 'Test Lab');
    link.title = 'Test Lab (development only)';
    header.append(link);
  };
  addButton();
  // The views replace root's children when they mount; the header is in place by then.
  new MutationObserver(addButton).observe(root, { childList: true });
}
