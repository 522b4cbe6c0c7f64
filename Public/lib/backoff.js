// Reconnection delays: exponential from `min` to `max`, with ± `jitter` so that many clients
// cut off together do not all come back in the same instant.
export function backoffDelay(attempt, { min = 500, max = 10000, jitter = 0.5 } = {}, random = Math.random) {
  const base = Math.min(max, min * 2 ** Math.max(0, attempt));
  const spread = base * jitter;
  return Math.max(0, Math.round(base - spread + random() * 2 * spread));
}
