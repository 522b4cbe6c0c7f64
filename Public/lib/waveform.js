// Waveform bars from decoded audio samples: the peak of each slice, scaled so the loudest bar is
// 1. Pure, so it is tested in Node; `computeWaveform` does the decoding in the browser.

export function barsFromSamples(samples, count = 100) {
  const bars = new Array(count).fill(0);
  if (!samples || samples.length === 0) return bars;
  const size = samples.length / count;
  for (let i = 0; i < count; i++) {
    const start = Math.floor(i * size);
    const end = Math.max(start + 1, Math.floor((i + 1) * size));
    let peak = 0;
    for (let j = start; j < end && j < samples.length; j++) {
      const v = Math.abs(samples[j]);
      if (v > peak) peak = v;
    }
    bars[i] = peak;
  }
  const max = Math.max(...bars);
  return bars.map((v) => (max > 0 ? Math.round((v / max) * 1000) / 1000 : 0));
}

/** Decodes an audio Blob with Web Audio → {waveform: 100 bars 0…1, duration seconds}. */
export async function computeWaveform(blob, count = 100) {
  const Context = globalThis.AudioContext ?? globalThis.webkitAudioContext;
  const context = new Context();
  try {
    const buffer = await context.decodeAudioData(await blob.arrayBuffer());
    return { waveform: barsFromSamples(buffer.getChannelData(0), count), duration: buffer.duration };
  } finally {
    context.close();
  }
}
