// What the server says a client must know before it sends anything (GET /api/client-config: the
// upload limit and types, the longest message, the mode): asked once per page, by whoever needs
// it first. Unreachable: null, and asked again next time (nothing is checked; the server decides).
let config = null;

export function clientConfig() {
  config ??= fetch('/api/client-config')
    .then((response) => (response.ok ? response.json() : null))
    .catch(() => null)
    .then((answer) => { if (!answer) config = null; return answer; });
  return config;
}
