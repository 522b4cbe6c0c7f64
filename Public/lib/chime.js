// The new-message sound: two short sine tones made with WebAudio (no audio file to download).
// One AudioContext for the page, made at the first chime: browsers allow sound only after the
// person has interacted with the page, and by the time a message arrives they usually have.

let context = null;

export function chime() {
  const AudioContextClass = window.AudioContext ?? window.webkitAudioContext;
  if (!AudioContextClass) return;
  context ??= new AudioContextClass();
  if (context.state === 'suspended') context.resume().catch(() => {});
  const start = context.currentTime;
  const gain = context.createGain();
  gain.gain.setValueAtTime(0.0001, start);
  gain.gain.exponentialRampToValueAtTime(0.15, start + 0.02);
  gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.35);
  gain.connect(context.destination);
  const tone = context.createOscillator();
  tone.type = 'sine';
  tone.frequency.setValueAtTime(880, start);
  tone.frequency.setValueAtTime(660, start + 0.12);
  tone.connect(gain);
  tone.start(start);
  tone.stop(start + 0.36);
}
