// Writing messages: Enter sends (Shift+Enter for a new line), ↑ in an empty box edits my last
// text message, Esc cancels an edit or a reply; emoji (picker and `:shortcodes:`), files
// (chosen, pasted or dropped on the chat), voice notes and ghost text.
import { html, render } from '../../lib/html.js';
import { previewText } from '../../lib/messages.js';
import { toast } from '../toast/toast.js';
import { Recorder } from './recorder.js';

// Loaded when first needed, with the emoji list: neither is part of the app's first load.
const loadPicker = () => import('../emoji/emoji-picker.js');
const loadShortcodes = () => import('../emoji/shortcode-suggestions.js');

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
    <div class="emoji-popover" data-emoji-popover hidden></div>
    <ul class="shortcode-list" id="shortcode-list" data-shortcode-list role="listbox" aria-label="Emoji suggestions" hidden></ul>
    <div class="drop-zone" data-drop-zone hidden><span>Drop files to send them</span></div>
    <form class="composer" data-form>
      <label class="icon-btn attach" title="Attach files" aria-label="Attach files" tabindex="0">📎
        <input type="file" data-file hidden multiple accept="image/*,audio/*,video/mp4,video/webm,application/pdf,.doc,.docx,text/plain"></label>
      ${isDirect ? html`<button type="button" class="icon-btn ghost-toggle" data-ghost-toggle aria-label="Ghost typing" aria-pressed="${store.get().settings.ghost ? 'true' : 'false'}"
        title="Ghost typing: let them see what you type before you send">👻</button>` : ''}
      <textarea data-input rows="1" placeholder="Message" aria-label="Message" aria-autocomplete="list" aria-controls="shortcode-list"></textarea>
      <button type="button" class="icon-btn" data-emoji-toggle aria-label="Insert emoji" title="Insert emoji" aria-haspopup="dialog" aria-expanded="false">😊</button>
      <button type="button" class="icon-btn" data-record aria-label="Record a voice message" title="Record a voice message">🎤</button>
      <button type="submit" class="btn btn-primary send" data-send>Send</button>
    </form>`);
  const input = root.querySelector('[data-input]');
  const context = root.querySelector('[data-context]');
  const form = root.querySelector('[data-form]');
  const recordingBar = root.querySelector('[data-recording-bar]');
  const emojiToggle = root.querySelector('[data-emoji-toggle]');
  const dropZone = root.querySelector('[data-drop-zone]');
  const chatArea = root.parentElement;   // the whole chat takes dropped files
  let recorder = null;
  let maxLength = null;       // the server's limit, once /api/client-config has answered
  let shortcodes = null;      // the `:shortcode:` list, once loaded
  let closePicker = null;     // set while the emoji picker is open
  let unmounted = false;

  // The server's limits (asked once per page: client-config.js).
  import('../../lib/client-config.js').then(({ clientConfig }) => clientConfig()).then((limits) => {
    if (!limits?.maxMessageLength || unmounted) return;
    maxLength = limits.maxMessageLength;
    input.maxLength = maxLength;
  }, () => { /* offline before it ever loaded: the server still refuses a text too long */ });

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
    if (maxLength && text.length > maxLength) { toast(`Messages are limited to ${maxLength} characters`, 'error'); return; }
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
    if (shortcodes?.handleKey(e)) return;   // the open suggestion list has ↑/↓, Enter, Tab and Esc
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); }
    if (e.key === 'Escape' && (store.get().editing || store.get().replyTo)) { e.preventDefault(); e.stopPropagation(); cancel(); }
    if (e.key === 'ArrowUp' && input.value === '') {
      const mine = controller.chat(store.get().active.key).messages.filter((m) => m.senderId === controller.me.id && m.id && m.type === 'text' && !m.unsent);
      const last = mine[mine.length - 1];
      if (last) { e.preventDefault(); store.update({ editing: last, replyTo: null }); }
    }
  });
  input.addEventListener('input', () => {
    changed();
    if (shortcodes) shortcodes.update();
    else if (input.value.includes(':')) startShortcodes();
  });

  /** After the text changed (typed, or an emoji put in): the box's height, typing and ghost text. */
  function changed() {
    autosize();
    if (store.get().editing) return;
    controller.typing(input.value.length > 0);
    controller.ghost(input.value);
  }

  /** Puts `text` in place of the box's characters from `start` to `end`, the caret after it. */
  function replaceText(start, end, text) {
    input.setRangeText(text, start, end, 'end');
    input.focus();
    changed();
  }

  let shortcodesLoading = null;
  function startShortcodes() {
    shortcodesLoading ??= loadShortcodes().then(({ attachShortcodes }) => {
      if (unmounted) return;
      shortcodes = attachShortcodes(input, root.querySelector('[data-shortcode-list]'), { replace: replaceText });
      shortcodes.update();
    }, () => { shortcodesLoading = null; });   // offline before it ever loaded: tried again on the next colon
  }

  async function toggleEmojiPicker() {
    if (closePicker) { closePicker(); return; }
    let module;
    try { module = await loadPicker(); } catch { toast('Could not load the emoji. Check your connection and try again.', 'error'); return; }
    if (unmounted || closePicker) return;
    const { selectionStart, selectionEnd } = input;   // where the emoji goes, kept while the picker has the focus
    emojiToggle.setAttribute('aria-expanded', 'true');
    closePicker = module.openEmojiPicker(root.querySelector('[data-emoji-popover]'), {
      onPick: (emoji) => replaceText(selectionStart, selectionEnd, emoji),
      onClose: ({ byKeyboard }) => {
        closePicker = null;
        emojiToggle.setAttribute('aria-expanded', 'false');
        if (byKeyboard) input.focus();
      },
    });
  }
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
    if (e.target.closest('[data-emoji-toggle]')) toggleEmojiPicker();
    const rec = e.target.closest('[data-rec]')?.dataset.rec;
    if (rec) finishRecording(rec === 'send');
  });
  root.querySelector('.attach').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); root.querySelector('[data-file]').click(); }
  });

  root.querySelector('[data-file]').addEventListener('change', (e) => {
    const files = [...e.target.files];
    e.target.value = '';
    sendFiles(files);
  });

  // A pasted picture or file is sent. Text copied from a document or a page (plain and HTML
  // text, sometimes with a picture of it as a file) is pasted as text.
  input.addEventListener('paste', (e) => {
    const data = e.clipboardData;
    const files = [...(data?.files ?? [])];
    if (!files.length || (data.types.includes('text/plain') && data.types.includes('text/html'))) return;
    e.preventDefault();
    sendFiles(files);
  });

  // Files dragged over the chat: a drop zone covers it; dropped, they are sent.
  const carriesFiles = (e) => e.dataTransfer?.types.includes('Files');
  function showDropZone(show) {
    if (show && dropZone.hidden) {
      const box = chatArea.getBoundingClientRect();
      Object.assign(dropZone.style, { top: `${box.top}px`, left: `${box.left}px`, width: `${box.width}px`, height: `${box.height}px` });
    }
    dropZone.hidden = !show;
  }
  const onDragOver = (e) => {
    if (!carriesFiles(e)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
    showDropZone(true);
  };
  const onDragLeave = (e) => { if (!chatArea.contains(e.relatedTarget)) showDropZone(false); };
  const onDrop = (e) => {
    if (!carriesFiles(e)) return;
    e.preventDefault();
    showDropZone(false);
    sendFiles([...e.dataTransfer.files]);
  };
  chatArea.addEventListener('dragenter', onDragOver);
  chatArea.addEventListener('dragover', onDragOver);
  chatArea.addEventListener('dragleave', onDragLeave);
  chatArea.addEventListener('drop', onDrop);

  /**
   * Sends files, each as its own message, in their order. One image takes the text in the box as
   * its caption; with several files, or another kind, the text stays in the box. Each message
   * shows its own progress and, if it is refused or fails, why, with Retry and Remove: no notice here.
   */
  function sendFiles(files) {
    if (!files.length) return;
    const caption = files.length === 1 && typeOfFile(files[0]) === 'image' ? takeCaption() : '';
    const { replyTo } = store.get();
    store.update({ replyTo: null });
    files.forEach((file, i) => {
      controller.sendFile(file, { type: typeOfFile(file), caption, replyTo: i === 0 ? replyTo : null }).catch(() => {});
    });
  }

  // Emptying the box also ends "typing…" and the ghost text the other person sees.
  function takeCaption() { const caption = input.value.trim(); input.value = ''; changed(); return caption; }

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
  return () => {
    unmounted = true;
    unsubscribe();
    closePicker?.();
    for (const [type, listener] of [['dragenter', onDragOver], ['dragover', onDragOver], ['dragleave', onDragLeave], ['drop', onDrop]]) chatArea.removeEventListener(type, listener);
    if (recorder) { recorder.stop(); controller.recording(false); }
    controller.typing(false);
  };
}
