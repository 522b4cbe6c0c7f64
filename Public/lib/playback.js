// Voice note playback rules, pure so they are tested in Node: the speeds the speed button cycles
// through, and where a click or an arrow key on the waveform seeks to.

export const PLAYBACK_RATES = [1, 1.5, 2];

/** The speed after `rate` (back to 1× after the fastest; an unknown rate starts over). */
export function nextRate(rate) {
  const index = PLAYBACK_RATES.indexOf(rate);
  return PLAYBACK_RATES[(index + 1) % PLAYBACK_RATES.length];
}

/** "1×", "1.5×", "2×". */
export function rateLabel(rate) {
  return `${rate}×`;
}

/** Seconds at `fraction` (0…1, clamped) of `duration`; 0 when the duration is not known. */
export function timeAt(fraction, duration) {
  if (!Number.isFinite(duration) || duration <= 0) return 0;
  return Math.min(1, Math.max(0, fraction)) * duration;
}

/** Seconds moved by one press of ← or → on the waveform. */
export const SEEK_STEP = 5;
