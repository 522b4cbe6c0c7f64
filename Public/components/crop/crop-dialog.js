// The crop dialog shown before a new profile photo or cover is uploaded: the picture fills a
// frame (square under a round mask for the photo, 3:1 for the cover); drag it, zoom with the
// slider, the wheel or +/-, move it with the arrow keys. "Use photo" resolves with the visible
// part as a JPEG blob, Cancel and Esc with null. Like the dialogs in dialog.js: modal, Tab stays
// inside, focus returns to what opened it. Loaded only when a file is picked (settings.js).
import { html, render } from '../../lib/html.js';
import { trapFocus } from '../../lib/focus-trap.js';
import { MAX_ZOOM, initialView, moveBy, outputSize, sourceRect, zoomTo } from '../../lib/crop.js';

const SHAPES = {
  photo: { aspect: 1, maxWidth: 512, title: 'Crop your photo', useLabel: 'Use photo', frameClass: 'crop-frame-round' },
  cover: { aspect: 3, maxWidth: 1500, title: 'Crop your cover', useLabel: 'Use cover', frameClass: 'crop-frame-wide' },
};
const KEY_STEP = 10;   // screen pixels per arrow key press; Shift moves five times as far
const ZOOM_STEP = 1.1; // per + or - press
const JPEG_QUALITY = 0.9;

/** Resolves with the cropped picture as a JPEG blob, or null when cancelled. `shape`: photo or cover. */
export async function cropImage(file, shape) {
  const { aspect, maxWidth, title, useLabel, frameClass } = SHAPES[shape];
  const url = URL.createObjectURL(file);
  const picture = new Image();
  picture.src = url;
  try {
    await picture.decode();
  } catch {
    URL.revokeObjectURL(url);
    throw new Error('This file is not a picture this browser can open.');
  }
  const size = { width: picture.naturalWidth, height: picture.naturalHeight };
  let view = initialView(size, aspect);

  const opener = document.activeElement;
  const dialog = document.createElement('dialog');
  dialog.className = 'dialog crop-dialog';
  dialog.setAttribute('aria-labelledby', 'crop-title');
  render(dialog, html`
    <h2 class="dialog-title" id="crop-title">${title}</h2>
    <div class="crop-frame ${frameClass}" tabindex="0" role="group" aria-label="Crop area: drag or use the arrow keys" data-crop-frame></div>
    <label class="crop-zoom"><span>Zoom</span>
      <input type="range" min="1" max="${MAX_ZOOM}" step="0.01" value="1" data-crop-zoom></label>
    <div class="dialog-actions">
      <button type="button" class="btn" data-crop-cancel>Cancel</button>
      <button type="button" class="btn btn-primary" data-crop-use>${useLabel}</button>
    </div>`);
  const frame = dialog.querySelector('[data-crop-frame]');
  const slider = dialog.querySelector('[data-crop-zoom]');
  picture.alt = '';
  picture.draggable = false;
  picture.className = 'crop-picture';
  frame.append(picture);

  // The picture is drawn at its natural size, scaled and moved so that the visible part fills the frame.
  function place() {
    const rect = sourceRect(size, aspect, view);
    const scale = frame.clientWidth / rect.width;
    picture.style.transform = `scale(${scale}) translate(${-rect.x}px, ${-rect.y}px)`;
    slider.value = String(view.zoom);
    slider.setAttribute('aria-valuetext', `${Math.round(view.zoom * 100)}%`);
  }
  const show = (next) => { view = next; place(); };
  const move = (dx, dy) => show(moveBy(size, aspect, view, dx, dy, frame.clientWidth));
  const zoom = (value) => show(zoomTo(size, aspect, view, value));

  let drag = null;
  frame.addEventListener('pointerdown', (e) => {
    if (e.button !== 0) return;
    frame.setPointerCapture(e.pointerId);
    drag = { id: e.pointerId, x: e.clientX, y: e.clientY };
  });
  frame.addEventListener('pointermove', (e) => {
    if (drag?.id !== e.pointerId) return;
    move(e.clientX - drag.x, e.clientY - drag.y);
    drag.x = e.clientX;
    drag.y = e.clientY;
  });
  const endDrag = (e) => { if (drag?.id === e.pointerId) drag = null; };
  frame.addEventListener('pointerup', endDrag);
  frame.addEventListener('pointercancel', endDrag);
  frame.addEventListener('wheel', (e) => { e.preventDefault(); zoom(view.zoom * Math.exp(-e.deltaY / 500)); }, { passive: false });
  frame.addEventListener('keydown', (e) => {
    const step = e.shiftKey ? KEY_STEP * 5 : KEY_STEP;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (moves[e.key]) move(...moves[e.key]);
    else if (e.key === '+' || e.key === '=') zoom(view.zoom * ZOOM_STEP);
    else if (e.key === '-') zoom(view.zoom / ZOOM_STEP);
    else return;
    e.preventDefault();
  });
  slider.addEventListener('input', () => zoom(Number(slider.value)));
  const resizes = new ResizeObserver(place);

  return new Promise((resolve, reject) => {
    let result = null;
    dialog.querySelector('[data-crop-cancel]').addEventListener('click', () => dialog.close());
    dialog.querySelector('[data-crop-use]').addEventListener('click', async (e) => {
      e.currentTarget.disabled = true;   // encoding takes a moment: one upload per click
      const rect = sourceRect(size, aspect, view);
      try {
        result = await exportJPEG(picture, rect, outputSize(rect, maxWidth, aspect));
      } catch (err) { reject(err); }
      dialog.close();
    });
    const release = trapFocus(dialog);
    dialog.addEventListener('close', () => {
      resizes.disconnect();
      release();
      dialog.remove();
      URL.revokeObjectURL(url);
      if (opener?.isConnected) opener.focus();
      resolve(result);
    });
    document.body.append(dialog);
    dialog.showModal();
    resizes.observe(frame);
    frame.focus();
  });
}

/** Draws `rect` of the picture at `size` and encodes it; transparent parts become white (JPEG has no alpha). */
function exportJPEG(picture, rect, size) {
  const canvas = document.createElement('canvas');
  canvas.width = size.width;
  canvas.height = size.height;
  const context = canvas.getContext('2d');
  context.fillStyle = '#ffffff';
  context.fillRect(0, 0, size.width, size.height);
  context.imageSmoothingQuality = 'high';
  context.drawImage(picture, rect.x, rect.y, rect.width, rect.height, 0, 0, size.width, size.height);
  return new Promise((resolve, reject) => canvas.toBlob(
    (blob) => (blob ? resolve(blob) : reject(new Error('The cropped picture could not be made.'))), 'image/jpeg', JPEG_QUALITY));
}
