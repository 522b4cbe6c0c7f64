// The REST client: JSON in and out, the bearer token, and server errors as ApiError with the
// SPEC's `{error, code?, details?}` so forms can show them inline.

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error ?? `Request failed (${status})`);
    this.status = status;
    this.code = body?.code;
    this.details = body?.details;
    this.body = body;
  }
}

export class Api {
  constructor({ token = null, onUnauthorized = () => {} } = {}) {
    this.token = token;
    this.onUnauthorized = onUnauthorized;
  }

  /** `options.signal`: an AbortSignal (a search that a newer one replaces is cancelled). */
  async request(method, path, body, { signal } = {}) {
    const headers = {};
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    let payload;
    if (body instanceof FormData) payload = body;
    else if (body !== undefined) { headers['Content-Type'] = 'application/json'; payload = JSON.stringify(body); }
    const response = await fetch(path, { method, headers, body: payload, signal });
    const text = await response.text();
    let data = null;
    if (text) { try { data = JSON.parse(text); } catch { data = { error: text.slice(0, 200) }; } }
    if (!response.ok) {
      if (response.status === 401 && this.token) this.onUnauthorized();
      throw new ApiError(response.status, data);
    }
    return data;
  }

  get(path, options) { return this.request('GET', path, undefined, options); }
  post(path, body, options) { return this.request('POST', path, body ?? {}, options); }
  put(path, body) { return this.request('PUT', path, body); }
  patch(path, body) { return this.request('PATCH', path, body); }
  /** A body only where the route takes one (DELETE /api/push/subscriptions names the endpoint). */
  delete(path, body) { return this.request('DELETE', path, body); }
}

/** Query strings from plain objects, leaving out empty values. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') search.set(k, v);
  const text = search.toString();
  return text ? `?${text}` : '';
}
