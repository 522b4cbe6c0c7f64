// Counted nouns for the UI: "1 member", "2 members". English only; irregular plurals are passed in.

/** `plural(1, 'member')` → "1 member"; `plural(3, 'person', 'people')` → "3 people". */
export function plural(count, one, many = `${one}s`) {
  return `${count} ${count === 1 ? one : many}`;
}
