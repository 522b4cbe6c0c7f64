// Views used rarely (Test Lab, settings, group info, new group) are loaded when first opened, not
// with the app: `lazy(load, name)` is a function that imports the module, then calls its export.
// A module that cannot be loaded (offline before it ever was) says so instead of doing nothing.
import { toast } from '../components/toast/toast.js';

export function lazy(load, name) {
  return (...args) => load().then(
    (module) => module[name](...args),
    () => { toast('Could not load this view. Check your connection and try again.', 'error'); },
  );
}
