// The two DOM helpers every view uses.

export const $ = (sel) => document.querySelector(sel);

// A new element with an optional class and text (text, never HTML).
export function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}
