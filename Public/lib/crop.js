// Geometry of the crop dialog, in the picture's own pixels so that it does not depend on how big
// the frame is drawn. A view is { zoom, cx, cy }: zoom 1 is the largest part of the picture with
// the frame's aspect ratio (the picture "covers" the frame), and (cx, cy) is the picture's point
// at the frame's centre. Every function returns a view whose visible part lies wholly inside the
// picture: the frame never shows a gap.

export const MAX_ZOOM = 4;

const clamp = (value, min, max) => Math.min(Math.max(value, min), max);

/** The largest width x height with the frame's aspect (width / height) that fits in the picture. */
export function coverSize(picture, aspect) {
  const width = Math.min(picture.width, picture.height * aspect);
  return { width, height: width / aspect };
}

/** The part of the picture shown in the frame: { x, y, width, height } in picture pixels. */
export function sourceRect(picture, aspect, view) {
  const base = coverSize(picture, aspect);
  const width = base.width / view.zoom;
  const height = base.height / view.zoom;
  return {
    x: clamp(view.cx - width / 2, 0, picture.width - width),
    y: clamp(view.cy - height / 2, 0, picture.height - height),
    width,
    height,
  };
}

/** The same view brought back inside its limits: zoom from 1 to MAX_ZOOM, no gap at any edge. */
export function clampView(picture, aspect, view) {
  const zoom = clamp(view.zoom, 1, MAX_ZOOM);
  const rect = sourceRect(picture, aspect, { ...view, zoom });
  return { zoom, cx: rect.x + rect.width / 2, cy: rect.y + rect.height / 2 };
}

/** The whole picture's centre at zoom 1: what the dialog shows first. */
export function initialView(picture, aspect) {
  return clampView(picture, aspect, { zoom: 1, cx: picture.width / 2, cy: picture.height / 2 });
}

/** Moves the picture by (dx, dy) screen pixels in a frame frameWidth pixels wide: the picture
 * follows the pointer, so the point at the centre moves the other way. */
export function moveBy(picture, aspect, view, dx, dy, frameWidth) {
  const picturePixelsPerScreenPixel = sourceRect(picture, aspect, view).width / frameWidth;
  return clampView(picture, aspect, {
    ...view,
    cx: view.cx - dx * picturePixelsPerScreenPixel,
    cy: view.cy - dy * picturePixelsPerScreenPixel,
  });
}

/** Zooms around the frame's centre. */
export function zoomTo(picture, aspect, view, zoom) {
  return clampView(picture, aspect, { ...view, zoom });
}

/** The size of the exported image: maxWidth wide with the frame's aspect, or the visible part's
 * own size when that is smaller (a small picture is not blown up). */
export function outputSize(rect, maxWidth, aspect) {
  const width = Math.max(1, Math.round(Math.min(maxWidth, rect.width)));
  return { width, height: Math.max(1, Math.round(width / aspect)) };
}
