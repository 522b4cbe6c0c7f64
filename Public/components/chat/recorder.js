// Voice notes: MediaRecorder for the file, an AnalyserNode for the live level bars.
export class Recorder {
  async start(onLevels) {
    this.stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    this.chunks = [];
    this.media = new MediaRecorder(this.stream);
    this.media.ondataavailable = (e) => { if (e.data.size) this.chunks.push(e.data); };
    this.media.start(250);
    this.startedAt = performance.now();
    this.context = new AudioContext();
    const analyser = this.context.createAnalyser();
    analyser.fftSize = 256;
    this.context.createMediaStreamSource(this.stream).connect(analyser);
    const samples = new Uint8Array(analyser.fftSize);
    const history = new Array(30).fill(0);
    const tick = () => {
      analyser.getByteTimeDomainData(samples);
      let peak = 0;
      for (const s of samples) peak = Math.max(peak, Math.abs(s - 128) / 128);
      history.push(Math.min(1, peak * 1.5));
      history.shift();
      onLevels([...history], (performance.now() - this.startedAt) / 1000);
      this.frame = requestAnimationFrame(tick);
    };
    tick();
  }

  /** Stops and resolves with {blob, duration} (or null if nothing was recorded). */
  stop() {
    cancelAnimationFrame(this.frame);
    const duration = (performance.now() - this.startedAt) / 1000;
    return new Promise((resolve) => {
      const finish = () => {
        this.stream.getTracks().forEach((t) => t.stop());
        this.context.close();
        resolve(this.chunks.length ? { blob: new Blob(this.chunks, { type: this.media.mimeType || 'audio/webm' }), duration } : null);
      };
      if (this.media.state === 'inactive') finish();
      else { this.media.onstop = finish; this.media.stop(); }
    });
  }
}
