// Keeps Tab and Shift+Tab inside the topmost open panel or dialog: past the last control focus
// goes to the first, and back. Traps stack (a dialog over a panel over another panel); only the
// top one acts, and releasing one gives the keys back to the one under it.

const TABBABLE = 'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), '
  + 'textarea:not([disabled]), audio[controls], video[controls], [tabindex]:not([tabindex="-1"])';

const traps = [];

/** Traps focus in `container`; returns the function that releases it. */
export function trapFocus(container) {
  traps.push(container);
  return () => {
    const index = traps.indexOf(container);
    if (index !== -1) traps.splice(index, 1);
  };
}

/** The controls Tab stops at, in order: shown ones (a hidden file input behind its label is not). */
function tabbable(container) {
  return [...container.querySelectorAll(TABBABLE)].filter((el) => el.getClientRects().length > 0);
}

document.addEventListener('keydown', (e) => {
  const container = traps[traps.length - 1];
  if (e.key !== 'Tab' || !container) return;
  const controls = tabbable(container);
  const first = controls[0];
  const last = controls[controls.length - 1];
  const inside = container.contains(document.activeElement);
  if (!first) { e.preventDefault(); return; }
  if (e.shiftKey && (!inside || document.activeElement === first)) { e.preventDefault(); last.focus(); }
  else if (!e.shiftKey && (!inside || document.activeElement === last)) { e.preventDefault(); first.focus(); }
});
