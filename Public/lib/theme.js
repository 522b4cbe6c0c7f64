// Light/dark theme: the system's preference until the user picks one, then remembered.
const KEY = 'chatr.theme';

export function applyTheme() {
  const saved = localStorage.getItem(KEY);
  const dark = saved ? saved === 'dark' : matchMedia('(prefers-color-scheme: dark)').matches;
  document.documentElement.dataset.theme = dark ? 'dark' : 'light';
}

export function setTheme(theme) {
  localStorage.setItem(KEY, theme);
  applyTheme();
}

export function toggleTheme() {
  setTheme(document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark');
}
