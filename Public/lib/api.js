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

  /**
   * A multipart POST through XMLHttpRequest, which reports how much of the body has gone
   * (`onProgress(fraction)`; fetch cannot). `signal` aborts it (a DOMException named as the
   * signal's reason: AbortError, TimeoutError); an unreachable server rejects with a TypeError.
   */
  upload(path, form, { onProgress = () => {}, signal } = {}) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      const abort = () => xhr.abort();
      const done = () => signal?.removeEventListener('abort', abort);
      xhr.open('POST', path);
      if (this.token) xhr.setRequestHeader('Authorization', `Bearer ${this.token}`);
      xhr.upload.onprogress = (e) => { if (e.lengthComputable && e.total) onProgress(e.loaded / e.total); };
      xhr.onload = () => {
        done();
        let data = null;
        if (xhr.responseText) { try { data = JSON.parse(xhr.responseText); } catch { data = { error: xhr.responseText.slice(0, 200) }; } }
        if (xhr.status >= 200 && xhr.status < 300) { resolve(data); return; }
        if (xhr.status === 401 && this.token) this.onUnauthorized();
        reject(new ApiError(xhr.status, data));
      };
      xhr.onerror = () => { done(); reject(new TypeError('the server could not be reached')); };
      xhr.onabort = () => { done(); reject(signal?.reason instanceof DOMException ? signal.reason : new DOMException('Aborted', 'AbortError')); };
      if (signal?.aborted) { reject(signal.reason); return; }
      signal?.addEventListener('abort', abort);
      xhr.send(form);
    });
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
