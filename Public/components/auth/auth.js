// Sign-in and registration: login → emailed/SMS code → (2FA) ; register → verify code ;
// forgot → reset. Every server error is shown inline next to the form that caused it.
import { html, render } from '../../lib/html.js';
import { ApiError, query } from '../../lib/api.js';
import { toast } from '../toast/toast.js';

const PASSWORD_RULE = 'At least 8 characters, with an uppercase letter and a special character.';

/** Draws the sign-in flow into `root`; returns the function that takes it away again. */
export function mountAuth(root, { api, onSignedIn }) {
  let step = { name: 'login' };
  // `root` (#app) outlives this view: the chats are drawn into it next, and this view again after a
  // sign-out. Listeners left behind would handle the next sign-in form twice — two logins, two
  // codes, the second retiring the first one the person is typing.
  const mounted = new AbortController();
  const listen = (type, handler) => root.addEventListener(type, handler, { signal: mounted.signal });

  const go = (name, data = {}) => { step = { name, ...data }; draw(); };

  function draw() {
    if (mounted.signal.aborted) return; // an answer that came after sign-in must not replace the chats
    render(root, html`
      <main class="auth">
        <div class="auth-card">
          <h1 class="brand">Chatr</h1>
          ${VIEWS[step.name](step)}
        </div>
      </main>`);
    root.querySelector('[autofocus]')?.focus();
  }

  // A development server "sends" codes to its outbox: say where to read them. Only asked on a
  // local address, so a production site never logs a 404 for it.
  // The answer may come after a code form is drawn: its hint is shown in place, because drawing
  // the form again would wipe a code already typed.
  let devOutbox = false;
  const local = ['localhost', '127.0.0.1', '[::1]'].includes(location.hostname);
  const showOutboxHints = () => { for (const hint of root.querySelectorAll('[data-dev-outbox]')) hint.hidden = !devOutbox; };
  if (local) fetch('/api/dev/outbox?to=-').then((r) => { devOutbox = r.ok; if (!mounted.signal.aborted) showOutboxHints(); }, () => {});
  const outboxHint = () => html`<p class="hint" data-dev-outbox ${devOutbox ? '' : html`hidden`}>Development server: the code is in the
    <a href="/api/dev/outbox" target="_blank" rel="noopener">outbox</a>.</p>`;
  const codeField = () => html`<label class="field"><span>6-digit code</span>
    <input name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required autofocus></label>
    ${outboxHint()}`;
  const errorBox = html`<p class="form-error" role="alert" hidden></p>`;

  const VIEWS = {
    login: () => html`
      <form data-form="login" novalidate>
        <h2>Sign in</h2>
        <label class="field"><span>Email or username</span><input name="email" autocomplete="username" required autofocus></label>
        <label class="field"><span>Password</span><input name="password" type="password" autocomplete="current-password" required></label>
        <label class="field"><span>Send my code by</span>
          <select name="verificationMethod"><option value="email">Email</option><option value="sms">SMS</option></select></label>
        ${errorBox}
        <button class="btn btn-primary btn-block" type="submit">Continue</button>
        <p class="auth-links"><button type="button" class="link" data-go="register">Create an account</button>
          · <button type="button" class="link" data-go="forgot">Forgot password?</button></p>
      </form>`,
    loginCode: (s) => html`
      <form data-form="loginCode" novalidate>
        <h2>Check your ${s.method === 'sms' ? 'phone' : 'email'}</h2>
        <p class="muted">We sent a 6-digit sign-in code.</p>
        ${codeField()}${errorBox}
        <button class="btn btn-primary btn-block" type="submit">Sign in</button>
        <p class="auth-links"><button type="button" class="link" data-resend>Send a new code</button>
          · <button type="button" class="link" data-go="login">Back</button></p>
      </form>`,
    twoFactor: () => html`
      <form data-form="twoFactor" novalidate>
        <h2>Two-factor authentication</h2>
        <p class="muted">Enter the code from your authenticator app.</p>
        <label class="field"><span>Authenticator code</span>
          <input name="twoFactorCode" inputmode="numeric" autocomplete="one-time-code" maxlength="6" required autofocus></label>
        ${errorBox}
        <button class="btn btn-primary btn-block" type="submit">Verify</button>
      </form>`,
    register: () => html`
      <form data-form="register" novalidate>
        <h2>Create your account</h2>
        <label class="field"><span>Email</span><input name="email" type="email" autocomplete="email" autofocus></label>
        <label class="field"><span>or phone number (+44…)</span><input name="phoneNumber" type="tel" autocomplete="tel"></label>
        <label class="field"><span>Username</span><input name="username" autocomplete="username" required data-check-username></label>
        <p class="hint" data-username-hint aria-live="polite"></p>
        <label class="field"><span>Display name</span><input name="displayName" maxlength="50"></label>
        <label class="field"><span>Password</span><input name="password" type="password" autocomplete="new-password" required></label>
        <p class="hint">${PASSWORD_RULE}</p>
        ${errorBox}
        <button class="btn btn-primary btn-block" type="submit">Create account</button>
        <p class="auth-links"><button type="button" class="link" data-go="login">I have an account</button></p>
      </form>`,
    verify: (s) => html`
      <form data-form="verify" novalidate>
        <h2>Verify your ${s.method === 'sms' ? 'phone' : 'email'}</h2>
        <p class="muted">Enter the 6-digit code we sent you.</p>
        ${codeField()}${errorBox}
        <button class="btn btn-primary btn-block" type="submit">Verify</button>
        <p class="auth-links"><button type="button" class="link" data-resend>Send a new code</button>
          · <button type="button" class="link" data-go="login">Back</button></p>
      </form>`,
    forgot: () => html`
      <form data-form="forgot" novalidate>
        <h2>Reset your password</h2>
        <label class="field"><span>Email</span><input name="email" type="email" required autofocus></label>
        ${errorBox}
        <button class="btn btn-primary btn-block" type="submit">Send reset code</button>
        <p class="auth-links"><button type="button" class="link" data-go="login">Back</button></p>
      </form>`,
    reset: (s) => html`
      <form data-form="reset" novalidate>
        <h2>Choose a new password</h2>
        <p class="muted">If ${s.email} has an account, a code is on its way.</p>
        ${codeField()}
        <label class="field"><span>New password</span><input name="newPassword" type="password" autocomplete="new-password" required></label>
        <p class="hint">${PASSWORD_RULE}</p>
        ${errorBox}
        <button class="btn btn-primary btn-block" type="submit">Set password</button>
      </form>`,
  };

  async function signedIn(result) {
    if (!result?.token) throw new Error('The server did not return a session');
    onSignedIn(result.token, result.user);
  }

  // Answers of /login and /login/verify that ask for another step.
  function follow(result, from) {
    if (result.requiresEmailVerification || result.requiresPhoneVerification) {
      toast('Verify your account first — we sent you a new code.');
      return go('verify', { userId: result.userId, method: result.requiresPhoneVerification ? 'sms' : 'email' });
    }
    // The sign-in's own answers are kept (in memory, for this step only) to ask for a new code:
    // a new login code is a new POST /login — /resend-verification is for unverified accounts.
    if (result.requiresLoginVerification) return go('loginCode', { userId: result.userId, method: result.verificationMethod, credentials: from.credentials });
    // A wrong authenticator code stays on its form, with the server's words under it.
    if (result.requiresTwoFactor && result.error === 'invalid_totp' && step.name === 'twoFactor') {
      throw new ApiError(400, { error: result.message, code: result.error });
    }
    if (result.requiresTwoFactor) return go('twoFactor', { userId: result.userId, code: from.code });
    return signedIn(result);
  }

  const SUBMIT = {
    login: async (f) => {
      const credentials = { email: f.email, password: f.password, verificationMethod: f.verificationMethod };
      return follow(await api.post('/api/auth/login', credentials), { credentials });
    },
    loginCode: async (f) => follow(await api.post('/api/auth/login/verify', { userId: step.userId, code: f.code }), { code: f.code }),
    twoFactor: async (f) => follow(await api.post('/api/auth/login/verify', { userId: step.userId, code: step.code, twoFactorCode: f.twoFactorCode }), { code: step.code }),
    register: async (f) => {
      const body = { username: f.username, password: f.password };
      if (f.email) body.email = f.email;
      if (f.phoneNumber) body.phoneNumber = f.phoneNumber;
      if (f.displayName) body.displayName = f.displayName;
      const result = await api.post('/api/auth/register', body);
      go('verify', { userId: result.userId, method: result.verificationMethod });
    },
    verify: async (f) => signedIn(await api.post(step.method === 'sms' ? '/api/auth/verify-phone' : '/api/auth/verify-email', { userId: step.userId, code: f.code })),
    forgot: async (f) => { await api.post('/api/auth/forgot-password', { email: f.email }); go('reset', { email: f.email }); },
    reset: async (f) => {
      await api.post('/api/auth/reset-password', { email: step.email, code: f.code, newPassword: f.newPassword });
      toast('Password changed — sign in with the new one.', 'success');
      go('login');
    },
  };

  listen('submit', async (e) => {
    const form = e.target.closest('form[data-form]');
    if (!form) return;
    e.preventDefault();
    const error = form.querySelector('.form-error');
    const button = form.querySelector('[type=submit]');
    error.hidden = true;
    button.disabled = true;
    try {
      await SUBMIT[form.dataset.form](Object.fromEntries(new FormData(form)));
    } catch (err) {
      showError(error, err);
      if (form.dataset.form === 'register' && err instanceof ApiError && err.code === 'username_taken') suggestUsernames(form);
      // A refused code stays in its field, selected and focused: the right one is typed over it.
      const codeInput = form.querySelector('[name=code], [name=twoFactorCode]');
      if (codeInput && form.isConnected) { button.disabled = false; codeInput.focus(); codeInput.select(); }
    } finally {
      if (form.isConnected) button.disabled = false;
    }
  });

  listen('click', async (e) => {
    const target = e.target.closest('[data-go], [data-resend], [data-suggestion]');
    if (!target) return;
    if (target.dataset.go) go(target.dataset.go);
    if (target.dataset.suggestion) {
      const input = root.querySelector('[name=username]');
      input.value = target.dataset.suggestion;
      root.querySelector('[data-username-hint]').textContent = `${target.dataset.suggestion} is available`;
    }
    if ('resend' in target.dataset) {
      const codeInput = root.querySelector('[name=code]');
      try {
        if (step.name === 'loginCode') {
          if (!step.credentials) { go('login'); return; }
          await api.post('/api/auth/login', step.credentials);
        } else {
          await api.post('/api/auth/resend-verification', { userId: step.userId, method: step.method });
        }
        toast('A new code is on its way.', 'success');
      } catch (err) { showError(root.querySelector('.form-error'), err); }
      codeInput?.focus();
    }
  });

  // Live username availability, with suggestions when it is taken.
  let checkTimer;
  listen('input', (e) => {
    if (!e.target.matches('[data-check-username]')) return;
    clearTimeout(checkTimer);
    const form = e.target.form;
    checkTimer = setTimeout(async () => {
      const name = e.target.value.trim();
      const hint = form.querySelector('[data-username-hint]');
      if (name.replace(/^@/, '').length < 3) { render(hint, html``); return; }
      try {
        const { available } = await api.get(`/api/users/check-username${query({ username: name })}`);
        if (available) render(hint, html`<span class="ok">${name} is available</span>`);
        else await suggestUsernames(form);
      } catch { render(hint, html``); }
    }, 300);
  });

  async function suggestUsernames(form) {
    const name = form.querySelector('[name=username]').value.trim();
    const hint = form.querySelector('[data-username-hint]');
    try {
      const { suggestions } = await api.get(`/api/users/suggest-username${query({ username: name })}`);
      render(hint, html`<span class="bad">${name} is taken.</span> ${suggestions.length ? 'Try: ' : ''}
        ${suggestions.map((s) => html`<button type="button" class="chip" data-suggestion="${s}">${s}</button>`)}`);
    } catch { /* the inline error already says it is taken */ }
  }

  draw();
  return () => { mounted.abort(); clearTimeout(checkTimer); };
}

function showError(box, err) {
  const details = err instanceof ApiError && err.status === 429 ? ' Please wait a moment and try again.' : '';
  box.textContent = (err instanceof ApiError ? err.message : 'Could not reach the server. Check your connection.') + details;
  box.hidden = false;
}
