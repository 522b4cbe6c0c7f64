// Developer Test Lab: every socket event in and out with its payload, presence toggles, and a
// form to emit any event by hand (with or without an ack). Loaded only when opened (app.js);
// the events it lists are kept from the start by event-log.js.
import { html, render } from '../../lib/html.js';
import { clockTime } from '../../lib/time.js';

export function mountTestLab(root, controller, log) {
  const { socket, store } = controller;
  render(root, html`
    <main class="lab">
      <header class="lab-header">
        <a class="btn" href="#/">← Chats</a>
        <h1>Test Lab</h1>
        <span class="lab-state" data-lab-state></span>
      </header>
      <section class="lab-controls">
        <div class="row-buttons" role="group" aria-label="Presence">
          <span>Presence:</span>
          <button type="button" class="btn" data-presence="online">Online</button>
          <button type="button" class="btn" data-presence="away">Away</button>
          <button type="button" class="btn" data-presence="offline">Offline</button>
          <button type="button" class="btn" data-reconnect>Drop connection</button>
        </div>
        <form data-emit class="lab-emit">
          <label class="field"><span>Event</span><input name="event" value="presence:request" required></label>
          <label class="field"><span>Payload (JSON)</span><textarea name="payload" rows="3">[]</textarea></label>
          <label class="switch"><input type="checkbox" name="ack" checked> Wait for the ack</label>
          <button type="submit" class="btn btn-primary">Emit</button>
          <p class="form-error" role="alert" hidden></p>
        </form>
      </section>
      <section>
        <div class="lab-log-head"><h2>Events</h2>
          <input type="search" data-filter placeholder="Filter by event name" aria-label="Filter events">
          <button type="button" class="btn" data-clear>Clear</button></div>
        <ol class="lab-log" data-log aria-live="off"></ol>
      </section>
    </main>`);
  const list = root.querySelector('[data-log]');
  const filterInput = root.querySelector('[data-filter]');

  function draw() {
    const filter = filterInput.value.trim().toLowerCase();
    const entries = log.entries.filter((e) => !filter || e.event.toLowerCase().includes(filter)).slice(-300).reverse();
    render(list, html`${entries.map((e) => html`
      <li class="lab-entry lab-${e.direction}" data-event="${e.event}">
        <span class="lab-dir">${e.direction === 'in' ? '⬇ in' : e.direction === 'out' ? '⬆ out' : '•'}</span>
        <time>${clockTime(e.at)}</time> <strong>${e.event}</strong>
        <pre>${JSON.stringify(e.args, null, 1)}</pre>
      </li>`)}`);
    root.querySelector('[data-lab-state]').textContent = `socket: ${socket.state}${socket.id ? ` (${socket.id})` : ''}`;
  }

  root.addEventListener('click', async (e) => {
    const t = e.target.closest('button');
    if (!t) return;
    if (t.dataset.presence) {
      try { await controller.setPresence(t.dataset.presence); } catch (err) { log.add('note', 'presence:update failed', [err.message]); }
    }
    if ('reconnect' in t.dataset) socket.drop('dropped by Test Lab');
    if ('clear' in t.dataset) { log.entries.length = 0; draw(); }
  });

  root.querySelector('[data-emit]').addEventListener('submit', async (e) => {
    e.preventDefault();
    const error = e.target.querySelector('.form-error');
    const f = new FormData(e.target);
    let payload;
    try {
      const text = String(f.get('payload')).trim();
      payload = text === '' ? undefined : JSON.parse(text);
      error.hidden = true;
    } catch {
      error.textContent = 'The payload is not valid JSON';
      error.hidden = false;
      return;
    }
    const event = String(f.get('event')).trim();
    if (f.get('ack')) {
      try { log.add('ack', `${event} ack`, [await socket.emitWithAck(event, payload)]); } catch (err) { log.add('note', `${event} failed`, [err.message]); }
    } else if (!socket.emit(event, ...(payload === undefined ? [] : [payload]))) {
      log.add('note', `${event} not sent`, ['not connected']);
    }
  });

  filterInput.addEventListener('input', draw);
  const stopLog = log.subscribe(draw);
  const unsubscribe = store.subscribe((_, changed) => { if (changed.has('connection')) draw(); });
  draw();
  return () => { stopLog(); unsubscribe(); };
}
