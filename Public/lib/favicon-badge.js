// The unread count on the tab's icon: the plain icon of index.html with a red badge drawn on a
// canvas ("99+" past 99: more does not fit), and the plain icon again at 0.

const SIZE = 64;

/** The badge's text for a count above 0. */
export function badgeText(count) {
  return count > 99 ? '99+' : String(count);
}

let plain = null;       // index.html's icon, remembered before the first badge replaces it
let plainImage = null;  // that icon loaded, to draw under the badge
let shown = 0;

function iconLink() { return document.querySelector('link[rel="icon"]'); }

/** The icon without a badge (also what notifications show). */
export function plainIcon() {
  plain ??= iconLink()?.href ?? null;
  return plain;
}

export async function showUnreadOnFavicon(count) {
  const link = iconLink();
  if (!link || !plainIcon() || count === shown) return;
  shown = count;
  if (count <= 0) { link.href = plain; return; }
  plainImage ??= loadImage(plain);
  const image = await plainImage.catch(() => null);
  if (shown !== count) return;   // a newer count came while the icon loaded
  link.href = drawBadge(image, badgeText(count));
}

function loadImage(src) {
  return new Promise((resolve, reject) => {
    const image = new Image();
    image.onload = () => resolve(image);
    image.onerror = reject;
    image.src = src;
  });
}

function drawBadge(image, text) {
  const canvas = document.createElement('canvas');
  canvas.width = SIZE;
  canvas.height = SIZE;
  const g = canvas.getContext('2d');
  if (image) g.drawImage(image, 0, 0, SIZE, SIZE);
  g.font = 'bold 30px system-ui, sans-serif';
  const height = 36;
  const width = Math.max(height, g.measureText(text).width + 12);
  const x = SIZE - width;
  g.fillStyle = '#d92d20';
  g.beginPath();
  g.roundRect(x, 0, width, height, height / 2);
  g.fill();
  g.fillStyle = '#ffffff';
  g.textAlign = 'center';
  g.textBaseline = 'middle';
  g.fillText(text, x + width / 2, height / 2 + 1);
  return canvas.toDataURL('image/png');
}
