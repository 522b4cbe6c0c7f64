// Geometry of the photo and cover cropper (crop.js): the picture always covers the frame, moves
// and zooms stay inside it, and the export is never larger than the part of the picture it shows.
import test from 'node:test';
import assert from 'node:assert/strict';
import { MAX_ZOOM, clampView, coverSize, initialView, moveBy, outputSize, sourceRect, zoomTo } from '../../Public/lib/crop.js';

const wide = { width: 600, height: 300 };
const tall = { width: 400, height: 1000 };
const SQUARE = 1;
const COVER = 3;

test('at zoom 1 the frame shows the largest centred part of the picture with its aspect', () => {
  assert.deepEqual(coverSize(wide, SQUARE), { width: 300, height: 300 });
  assert.deepEqual(coverSize(tall, SQUARE), { width: 400, height: 400 });
  assert.deepEqual(coverSize(wide, COVER), { width: 600, height: 200 });
  assert.deepEqual(sourceRect(wide, SQUARE, initialView(wide, SQUARE)), { x: 150, y: 0, width: 300, height: 300 });
  assert.deepEqual(sourceRect(tall, COVER, initialView(tall, COVER)), { x: 0, y: 500 - 400 / 6, width: 400, height: 400 / 3 });
});

test('moving follows the pointer and stops where an edge of the picture reaches the frame', () => {
  const start = initialView(wide, SQUARE);
  // A 150 px frame shows 300 picture pixels: 10 screen pixels to the left are 20 to the right in the picture.
  assert.equal(moveBy(wide, SQUARE, start, -10, 0, 150).cx, 320);
  const farLeft = moveBy(wide, SQUARE, start, -1000, 0, 150);
  assert.deepEqual(sourceRect(wide, SQUARE, farLeft), { x: 300, y: 0, width: 300, height: 300 });
  const farRight = moveBy(wide, SQUARE, start, 1000, 0, 150);
  assert.equal(sourceRect(wide, SQUARE, farRight).x, 0);
  assert.equal(moveBy(wide, SQUARE, start, 0, 500, 150).cy, 150, 'no room to move up or down at zoom 1');
});

test('zoom stays between cover and MAX_ZOOM, around the centre, and pulls the view back inside', () => {
  const start = initialView(wide, SQUARE);
  assert.equal(zoomTo(wide, SQUARE, start, 0.2).zoom, 1, 'never smaller than covering the frame');
  assert.equal(zoomTo(wide, SQUARE, start, 99).zoom, MAX_ZOOM);
  const zoomed = zoomTo(wide, SQUARE, start, 2);
  assert.deepEqual(sourceRect(wide, SQUARE, zoomed), { x: 225, y: 75, width: 150, height: 150 });
  // Zoomed in and moved to the bottom-right corner, then zoomed out: the view slides back to fit.
  const corner = moveBy(wide, SQUARE, zoomed, -1000, -1000, 150);
  assert.deepEqual(sourceRect(wide, SQUARE, corner), { x: 450, y: 150, width: 150, height: 150 });
  assert.deepEqual(sourceRect(wide, SQUARE, zoomTo(wide, SQUARE, corner, 1)), { x: 300, y: 0, width: 300, height: 300 });
  assert.deepEqual(clampView(wide, SQUARE, { zoom: 1, cx: -50, cy: 900 }), { zoom: 1, cx: 150, cy: 150 });
});

test('the export is maxWidth wide with the frame aspect, or the visible part size when smaller', () => {
  assert.deepEqual(outputSize({ x: 0, y: 0, width: 2000, height: 2000 }, 512, SQUARE), { width: 512, height: 512 });
  assert.deepEqual(outputSize({ x: 0, y: 0, width: 300, height: 300 }, 512, SQUARE), { width: 300, height: 300 });
  assert.deepEqual(outputSize({ x: 0, y: 0, width: 3000, height: 1000 }, 1500, COVER), { width: 1500, height: 500 });
  assert.deepEqual(outputSize({ x: 0, y: 0, width: 600, height: 200 }, 1500, COVER), { width: 600, height: 200 });
  assert.deepEqual(outputSize({ x: 0, y: 0, width: 0.4, height: 0.4 }, 512, SQUARE), { width: 1, height: 1 });
});
