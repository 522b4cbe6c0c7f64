// Writing messages: Enter sends (Shift+Enter for a new line), ↑ in an empty box edits my last
// text message, Esc cancels an edit or a reply; attachments, voice notes and ghost text.
import { html, render } from '../../lib/html.js';
import { previewText } from '../../lib/messages.js';
import { toast } from '../toast/toast.js';
import { Recorder } from './recorder.js';

const MAX_LENGTH = 10000;

export function typeOfFile(file) {
  if (file.type.startsWith('image/')) return 'image';
  if (file.type.startsWith('audio/')) return 'audio';
  if (file.type.startsWith('video/')) return 'video';
  return 'file';
}

export function mountComposer(root, controller) {
  const { store } = controller;
  const isDirect = store.get().active.kind === 'direct';
  render(root, html`
    <div class="compose-context" data-context hidden></div>
    <div class="recording-bar" data-recording-bar hidden>
      <span class="rec-dot" aria-hidden="true"></span><span data-rec-time>0:00</span>
      <span class="level-bars" data-levels aria-hidden="true"></span>
      <button type="button" class="btn" data-rec="cancel">Cancel</button>
      <button type="button" class="btn btn-primary" data-rec="send">Send voice message</button>
    </div>
    <form class="composer" data-form>
      <label class="icon-btn attach" title="Attach a file" aria-label="Attach a file" tabindex="0">📎
        <input type="file" data-file hidden accept="image/*,audio/*,video/mp4,video/webm,application/pdf,.doc,.docx,text/plain"></label>
      ${isDirect ? html`<button type="button" class="icon-btn ghost-toggle" data-ghost-toggle aria-label="Ghost typing" aria-pressed="${store.get().settings.ghost ? 'true' : 'false'}"
        title="Ghost typing: let them see what you type before you send">👻</button>` : ''}
      <textarea data-input rows="1" maxlength="${MAX_LENGTH}" placeholder="Message" aria-label="Message"></textarea>
      <button type="button" class="icon-btn" data-record aria-label="Record a voice message" title="Record a voice message">🎤</button>
      <button type="submit" class="btn btn-primary send" data-send>Send</button>
    </form>`);
  const input = root.querySelector('[data-input]');
  const context = root.querySelector('[data-context]');
  const form = root.querySelector('[data-form]');
  const recordingBar = root.querySelector('[data-recording-bar]');
  let recorder = null;

  function drawContext(state) {
    const { replyTo, editing } = state;
    context.hidden = !replyTo && !editing;
    if (editing) render(context, html`<span>✏️ Editing message</span><button type="button" class="icon-btn" data-cancel aria-label="Cancel editing">✕</button>`);
    else if (replyTo) render(context, html`<span>↩ Replying to <strong>${replyTo.senderDisplayName}</strong>: ${previewText(replyTo).slice(0, 80)}</span>
      <button type="button" class="icon-btn" data-cancel aria-label="Cancel reply">✕</button>`);
    if (editing && editing.id !== input.dataset.editing) {
      input.dataset.editing = editing.id;
      input.value = editing.content;
      input.focus();
    }
    if (!editing && input.dataset.editing) { delete input.dataset.editing; input.value = ''; }
    if (replyTo) input.focus();
  }

  function cancel() { store.update({ replyTo: null, editing: null }); }

  async function submit() {
    const text = input.value.trim();
    const { editing, replyTo } = store.get();
    if (!text) return;
    if (text.length > MAX_LENGTH) { toast(`Messages are limited to ${MAX_LENGTH} characters`, 'error'); return; }
    if (editing) {
      try {
        if (text !== editing.content) await controller.edit(editing.id, text);
        cancel();
      } catch (err) { toast(err.message, 'error'); }
      return;
    }
    input.value = '';
    autosize();
    store.update({ replyTo: null });
    controller.ghost('');
    await controller.sendText(text, { replyTo });
  }

  // The box grows with its text up to 160 px. Its height is a border-box height, so the borders
  // are added to the scroll height (without them a line is cut by 2 px and scrolls). A box not
  // shown yet (a phone mounts the chat a moment before it shows it) measures 0: the CSS height,
  // one line, stays until there is something to measure.
  function autosize() {
    if (!input.offsetParent) { input.style.height = ''; return; }
    input.style.height = 'auto';
    const wanted = input.scrollHeight + input.offsetHeight - input.clientHeight;
    input.style.height = `${Math.min(wanted, 160)}px`;
    input.style.overflowY = wanted > 160 ? 'auto' : 'hidden';
  }

  form.addEventListener('submit', (e) => { e.preventDefault(); submit(); });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); }
    if (e.key === 'Escape' && (store.get().editing || store.get().replyTo)) { e.preventDefault(); e.stopPropagation(); cancel(); }
    if (e.key === 'ArrowUp' && input.value === '') {
      const mine = controller.chat(store.get().active.key).messages.filter((m) => m.senderId === controller.me.id && m.id && m.type === 'text' && !m.unsent);
      const last = mine[mine.length - 1];
      if (last) { e.preventDefault(); store.update({ editing: last, replyTo: null }); }
    }
  });
  input.addEventListener('input', () => {
    autosize();
    if (store.get().editing) return;
    controller.typing(input.value.length > 0);
    controller.ghost(input.value);
  });
  input.addEventListener('blur', () => controller.typing(false));

  root.addEventListener('click', async (e) => {
    if (e.target.closest('[data-cancel]')) cancel();
    if (e.target.closest('[data-ghost-toggle]')) {
      const on = !store.get().settings.ghost;
      localStorage.setItem('chatr.ghost', on ? '1' : '0');
      store.update({ settings: { ...store.get().settings, ghost: on } });
      e.target.closest('[data-ghost-toggle]').setAttribute('aria-pressed', String(on));
      if (!on) controller.socket.emit('ghost:typing', { recipientId: store.get().active.user.id, text: '' });
      toast(on ? 'Ghost typing on: they see what you type' : 'Ghost typing off');
    }
    if (e.target.closest('[data-record]')) startRecording();
    const rec = e.target.closest('[data-rec]')?.dataset.rec;
    if (rec) finishRecording(rec === 'send');
  });
  root.querySelector('.attach').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); root.querySelector('[data-file]').click(); }
  });

  root.querySelector('[data-file]').addEventListener('change', async (e) => {
    const file = e.target.files[0];
    e.target.value = '';
    if (!file) return;
    const { replyTo } = store.get();
    store.update({ replyTo: null });
    // The message shows "Sending…" and, if it fails, why, with Retry and Remove: no toast here.
    await controller.sendFile(file, { type: typeOfFile(file), caption: input.value.trim() && typeOfFile(file) === 'image' ? takeCaption() : '', replyTo })
      .catch(() => {});
  });

  function takeCaption() { const caption = input.value.trim(); input.value = ''; return caption; }

  async function startRecording() {
    if (recorder) return;
    recorder = new Recorder();
    const levels = root.querySelector('[data-levels]');
    const time = root.querySelector('[data-rec-time]');
    try {
      await recorder.start((bars, seconds) => {
        levels.replaceChildren(...bars.map((v) => { const s = document.createElement('span'); s.style.height = `${Math.max(6, v * 100)}%`; return s; }));
        time.textContent = `${Math.floor(seconds / 60)}:${String(Math.floor(seconds % 60)).padStart(2, '0')}`;
      });
    } catch {
      recorder = null;
      toast('Microphone not available — allow access to record voice messages', 'error');
      return;
    }
    form.hidden = true;
    recordingBar.hidden = false;
    recordingBar.querySelector('[data-rec="send"]').focus();
    controller.recording(true);
  }

  async function finishRecording(send) {
    const current = recorder;
    recorder = null;
    form.hidden = false;
    recordingBar.hidden = true;
    controller.recording(false);
    const result = await current.stop();
    input.focus();
    if (!send || !result || result.duration < 0.3) return;
    const file = new File([result.blob], `voice-${Date.now()}.webm`, { type: result.blob.type || 'audio/webm' });
    // Failed, the message itself says so with Retry and Remove.
    await controller.sendFile(file, { type: 'voice', duration: result.duration }).catch(() => {});
  }

  drawContext(store.get());
  autosize();
  const unsubscribe = store.subscribe((state, changed) => { if (changed.has('replyTo') || changed.has('editing')) drawContext(state); });
  input.focus();
  return () => { unsubscribe(); if (recorder) { recorder.stop(); controller.recording(false); } controller.typing(false); };
}
