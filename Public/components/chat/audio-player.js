// Plays audio and voice messages one at a time with a shared <audio>, fills the waveform bars as
// it plays, and tells the sender (audio:listening) when someone else listens.
import { formatDuration } from '../../lib/time.js';

export function attachAudioPlayer(list, controller) {
  const audio = new Audio();
  let current = null; // { id, mine }

  function element() { return current ? list.querySelector(`[data-audio="${CSS.escape(current.id)}"]`) : null; }

  function paint() {
    const box = element();
    if (!box || !current) return;
    const bars = box.querySelectorAll('.waveform span');
    const progress = audio.duration ? audio.currentTime / audio.duration : 0;
    const filled = Math.round(progress * bars.length);
    bars.forEach((bar, i) => bar.classList.toggle('played', i < filled));
    box.querySelector('[data-play]').textContent = audio.paused ? '▶' : '❚❚';
    box.querySelector('[data-play]').setAttribute('aria-label', audio.paused ? 'Play' : 'Pause');
    box.querySelector('[data-audio-time]').textContent = formatDuration(audio.paused && progress === 0 ? audio.duration : audio.currentTime);
    box.classList.toggle('playing', !audio.paused);
  }

  function report(isListening, isEnded = false) {
    if (current && !current.mine) controller.listening(current.id, isListening, isEnded);
  }

  audio.addEventListener('timeupdate', paint);
  audio.addEventListener('play', () => { paint(); report(true); });
  audio.addEventListener('pause', () => { paint(); if (!audio.ended) report(false); });
  audio.addEventListener('ended', () => { report(false, true); audio.currentTime = 0; paint(); });

  list.addEventListener('click', (e) => {
    const button = e.target.closest('[data-play]');
    if (!button) return;
    const box = button.closest('[data-audio]');
    const id = box.dataset.audio;
    if (!id) return;
    if (current?.id === id) { if (audio.paused) audio.play(); else audio.pause(); return; }
    if (current && !audio.paused) audio.pause();
    const message = controller.chat(controller.store.get().active.key).messages.find((m) => m.id === id);
    current = { id, mine: message?.senderId === controller.me.id };
    audio.src = box.dataset.src;
    audio.play().catch(() => {});
  });

  return {
    refresh: paint,
    stop() { if (!audio.paused) audio.pause(); audio.removeAttribute('src'); current = null; },
  };
}
