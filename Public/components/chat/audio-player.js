// Plays audio and voice messages one at a time with a shared <audio>, and tells the sender
// (audio:listening) when someone else listens. Each player message-view draws gets its controls
// here: the waveform is a slider (click a point, or ←/→/Home/End when focused, to seek) whose bars
// fill as it plays, and a speed button cycles 1× → 1.5× → 2× (kept for the next visit).
import { formatDuration } from '../../lib/time.js';
import { PLAYBACK_RATES, SEEK_STEP, nextRate, rateLabel, timeAt } from '../../lib/playback.js';

const RATE_KEY = 'chatr.playbackRate';

export function attachAudioPlayer(list, controller) {
  const audio = new Audio();
  let current = null;       // { id, mine, duration } of the message loaded in `audio`
  let listeningTo = null;   // the message whose listening was last reported (events come after a switch)
  let pending = null;       // a seek (0…1) asked before the audio's metadata had loaded
  let rate = storedRate();
  audio.defaultPlaybackRate = rate;

  function storedRate() {
    const stored = Number(localStorage.getItem(RATE_KEY));
    return PLAYBACK_RATES.includes(stored) ? stored : 1;
  }

  function messageOf(id) {
    const key = controller.store.get().active?.key;
    return key ? controller.chat(key).messages.find((m) => m.id === id) : null;
  }

  function element() { return current ? list.querySelector(`[data-audio="${CSS.escape(current.id)}"]`) : null; }

  /** Seconds: the file's own length, or (a recording's WebM often has none) the one the message gives. */
  function duration() { return Number.isFinite(audio.duration) && audio.duration > 0 ? audio.duration : current?.duration ?? 0; }

  function position() { return pending !== null ? timeAt(pending, duration()) : audio.currentTime; }

  function durationOf(box) { return current?.id === box.dataset.audio ? duration() : Number(messageOf(box.dataset.audio)?.duration) || 0; }

  function positionOf(box) { return current?.id === box.dataset.audio ? position() : 0; }

  /** One player's bars, button, time and slider values. */
  function draw(box, { at, total, playing }) {
    const bars = box.querySelectorAll('.waveform span');
    const filled = total ? Math.round((at / total) * bars.length) : 0;
    bars.forEach((bar, i) => bar.classList.toggle('played', i < filled));
    const play = box.querySelector('[data-play]');
    play.textContent = playing ? '❚❚' : '▶';
    play.setAttribute('aria-label', playing ? 'Pause' : 'Play');
    box.querySelector('[data-audio-time]').textContent = formatDuration(playing || at > 0 ? at : total);
    box.classList.toggle('playing', playing);
    const slider = box.querySelector('[role=slider]');
    if (!slider) return;
    slider.setAttribute('aria-valuemax', String(Math.round(total)));
    slider.setAttribute('aria-valuenow', String(Math.round(at)));
    slider.setAttribute('aria-valuetext', `${formatDuration(at)} of ${formatDuration(total)}`);
  }

  function paint() {
    const box = element();
    if (box) draw(box, { at: position(), total: duration(), playing: !audio.paused });
  }

  function labelSpeed(button) {
    button.textContent = rateLabel(rate);
    button.setAttribute('aria-label', `Playback speed ${rateLabel(rate)}`);
    button.title = 'Playback speed';
  }

  /** The slider and the speed button, added once to each player the list draws. */
  function enhance(box) {
    const wave = box.querySelector('.waveform');
    if (!box.dataset.audio || !wave || wave.getAttribute('role') === 'slider') return;
    const message = messageOf(box.dataset.audio);
    wave.removeAttribute('aria-hidden');
    wave.setAttribute('role', 'slider');
    wave.setAttribute('aria-label', `Position in ${message?.type === 'voice' ? 'voice message' : 'audio'}`);
    wave.setAttribute('aria-valuemin', '0');
    wave.tabIndex = 0;
    const speed = document.createElement('button');
    speed.type = 'button';
    speed.className = 'icon-btn speed';
    speed.dataset.speed = '';
    labelSpeed(speed);
    box.append(speed);
    draw(box, { at: 0, total: Number(message?.duration) || 0, playing: false });
  }

  /** Loads a player's audio without playing it; the one loaded before shows its start again. */
  function select(box) {
    const previous = element();
    if (!audio.paused) audio.pause();
    const message = messageOf(box.dataset.audio);
    current = { id: box.dataset.audio, mine: message?.senderId === controller.me.id, duration: Number(message?.duration) || 0 };
    pending = null;
    audio.src = box.dataset.src;
    if (previous && previous !== box) draw(previous, { at: 0, total: durationOf(previous), playing: false });
  }

  function seek(box, fraction) {
    if (current?.id !== box.dataset.audio) select(box);
    pending = Math.min(1, Math.max(0, fraction));
    applyPendingSeek();
    paint();
  }

  function applyPendingSeek() {
    if (pending === null || audio.readyState < HTMLMediaElement.HAVE_METADATA) return;
    audio.currentTime = timeAt(pending, duration());
    pending = null;
  }

  function changeRate() {
    rate = nextRate(rate);
    audio.defaultPlaybackRate = rate;   // what the next file loaded starts at
    audio.playbackRate = rate;
    localStorage.setItem(RATE_KEY, String(rate));
    list.querySelectorAll('[data-speed]').forEach(labelSpeed);
  }

  function report(message, isListening, isEnded = false) {
    if (message && !message.mine) controller.listening(message.id, isListening, isEnded);
  }

  audio.addEventListener('timeupdate', paint);
  audio.addEventListener('loadedmetadata', () => { applyPendingSeek(); paint(); });
  audio.addEventListener('play', () => { listeningTo = current; paint(); report(listeningTo, true); });
  audio.addEventListener('pause', () => { paint(); if (!audio.ended) report(listeningTo, false); });
  audio.addEventListener('ended', () => { report(listeningTo, false, true); audio.currentTime = 0; paint(); });

  list.addEventListener('click', (e) => {
    const box = e.target.closest('[data-audio]');
    if (!box?.dataset.audio) return;
    if (e.target.closest('[data-play]')) {
      if (current?.id !== box.dataset.audio) select(box);
      if (audio.paused) audio.play().catch(() => {}); else audio.pause();
    } else if (e.target.closest('[data-speed]')) {
      changeRate();
    } else {
      const wave = e.target.closest('[role=slider]');
      if (!wave) return;
      const { left, width } = wave.getBoundingClientRect();
      seek(box, (e.clientX - left) / width);
    }
  });

  list.addEventListener('keydown', (e) => {
    const wave = e.target.closest?.('[role=slider]');
    if (!wave) return;
    const box = wave.closest('[data-audio]');
    const total = durationOf(box);
    const at = positionOf(box);
    const to = { ArrowLeft: at - SEEK_STEP, ArrowDown: at - SEEK_STEP, ArrowRight: at + SEEK_STEP, ArrowUp: at + SEEK_STEP, Home: 0, End: total }[e.key];
    if (to === undefined || !total) return;
    e.preventDefault();
    seek(box, to / total);
  });

  return {
    /** After each redraw of the list: new players get their controls, the playing one its state. */
    refresh() {
      list.querySelectorAll('[data-audio]').forEach(enhance);
      paint();
    },
    stop() { if (!audio.paused) audio.pause(); audio.removeAttribute('src'); current = null; },
  };
}
