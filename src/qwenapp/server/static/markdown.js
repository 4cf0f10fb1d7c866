// Markdown from the model, rendered safely.
//
// Model output is untrusted. marked turns it into HTML; DOMPurify then removes scripts,
// event handlers, forms, frames, styles and any URL scheme but http(s)/mailto; a hook
// drops every image that is not an inline data: image (a remote image would tell its
// server that the answer was read) and makes links open in a new tab without a referrer.
// Math ($...$, $$...$$, \(...\), \[...\]) is cut out first (never inside code), rendered
// by Temml to MathML with trust off, and sanitised on its own. The page's CSP is a second
// wall: no inline script and no remote image could run or load even if this one failed.

/* global marked, DOMPurify, hljs, temml */

const FORBID_TAGS = ["style", "form", "input", "button", "textarea", "select", "option",
  "iframe", "frame", "frameset", "object", "embed", "applet", "link", "meta", "base",
  "video", "audio", "source", "track", "picture", "svg", "math", "template", "dialog"];
const FORBID_ATTR = ["style", "srcset", "ping", "background", "poster", "formaction",
  "action", "xlink:href", "id", "name"];
const SAFE_URL = /^(?:https?:|mailto:|#)/i;
const DATA_IMAGE = /^data:image\/(?:png|gif|jpe?g|webp);base64,[a-z0-9+/=\s]+$/i;

let hooked = false;

function installHooks() {
  if (hooked) return;
  hooked = true;
  DOMPurify.addHook("afterSanitizeAttributes", (node) => {
    if (node.tagName === "A") {
      const href = node.getAttribute("href") || "";
      if (!SAFE_URL.test(href.trim())) node.removeAttribute("href");
      if (node.hasAttribute("href") && !href.startsWith("#")) {
        node.setAttribute("target", "_blank");
        node.setAttribute("rel", "noopener noreferrer nofollow");
      }
    }
    if (node.tagName === "IMG") {
      const src = (node.getAttribute("src") || "").trim();
      if (!DATA_IMAGE.test(src)) {
        const span = document.createElement("span");
        span.className = "blocked-image";
        span.textContent = `[${node.getAttribute("alt") || "image"}]`;
        span.title = "remote images are not loaded";
        node.replaceWith(span);
      }
    }
  });
}

const CONFIG = {
  FORBID_TAGS, FORBID_ATTR, ALLOW_DATA_ATTR: false, ALLOW_ARIA_ATTR: false,
  ALLOWED_URI_REGEXP: /^(?:https?:|mailto:|#|data:image\/(?:png|gif|jpe?g|webp);base64,)/i,
  RETURN_DOM_FRAGMENT: true,
};

const MATH_BLOCK = /\$\$([\s\S]+?)\$\$|\\\[([\s\S]+?)\\\]/g;
const MATH_INLINE = /\\\((.+?)\\\)|(?<![\\$\w])\$(?![\s$])([^$\n]+?)(?<![\s\\])\$(?!\d)/g;
const CODE = /(```[\s\S]*?(?:```|$)|~~~[\s\S]*?(?:~~~|$)|`[^`\n]*`)/g;
const TOKEN = /QWMATH(\d+)QW/g;

function cutMath(src, maths) {
  const keep = (tex, display) => { maths.push({ tex, display }); return `QWMATH${maths.length - 1}QW`; };
  return src.split(CODE).map((part, i) => (i % 2 ? part : part
    .replace(MATH_BLOCK, (_, a, b) => `\n\n${keep(a ?? b, true)}\n\n`)
    .replace(MATH_INLINE, (_, a, b) => keep(a ?? b, false)))).join("");
}

function mathNode(m) {
  let html;
  try {
    html = temml.renderToString(m.tex, { displayMode: m.display, throwOnError: false,
      trust: false, annotate: false });
  } catch (e) {
    html = "";
  }
  const frag = DOMPurify.sanitize(html, { USE_PROFILES: { mathMl: true },
    FORBID_ATTR: ["href", "style", "xlink:href", "src"], RETURN_DOM_FRAGMENT: true });
  if (!frag.firstChild) {
    const code = document.createElement("code");
    code.textContent = m.tex;
    return code;
  }
  const wrap = document.createElement(m.display ? "div" : "span");
  wrap.className = m.display ? "math-block" : "math-inline";
  wrap.append(frag);
  return wrap;
}

function putMath(root, maths) {
  if (!maths.length) return;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const hits = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (TOKEN.test(n.nodeValue)) hits.push(n);
    TOKEN.lastIndex = 0;
  }
  for (const node of hits) {
    const frag = document.createDocumentFragment();
    let last = 0;
    const text = node.nodeValue;
    for (const m of text.matchAll(TOKEN)) {
      frag.append(text.slice(last, m.index));
      const math = maths[Number(m[1])];
      frag.append(math ? mathNode(math) : m[0]);
      last = m.index + m[0].length;
    }
    frag.append(text.slice(last));
    node.replaceWith(frag);
  }
}

// Whether a text node sits inside code. A text node at the top of the fragment has no
// parent *element* (its parent is the fragment itself): `<div>Qwen is open.</div> [1]`.
function inCode(node) {
  const parent = node.parentNode;
  return !!parent && parent.nodeType === Node.ELEMENT_NODE && !!parent.closest("code, pre");
}

// Turn [n] in text into citation chips when the turn has sources.
function putCitations(root, sources, onCite) {
  if (!sources || !sources.length) return;
  const byN = new Map(sources.map((s) => [s.n, s]));
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const hits = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (/\[\d+\]/.test(n.nodeValue) && !inCode(n)) hits.push(n);
  }
  for (const node of hits) {
    const frag = document.createDocumentFragment();
    let last = 0;
    const text = node.nodeValue;
    for (const m of text.matchAll(/\[(\d+)\]/g)) {
      const src = byN.get(Number(m[1]));
      if (!src) continue;
      frag.append(text.slice(last, m.index));
      const chip = document.createElement("button");
      chip.type = "button";
      chip.className = "cite";
      chip.textContent = m[1];
      chip.title = `${src.filename} — ${src.location}`;
      chip.addEventListener("click", () => onCite && onCite(src));
      frag.append(chip);
      last = m.index + m[0].length;
    }
    frag.append(text.slice(last));
    node.replaceWith(frag);
  }
}

function decorateCode(root, copyLabel) {
  root.querySelectorAll("pre > code").forEach((code) => {
    try { hljs.highlightElement(code); } catch (e) { /* unknown language: leave plain */ }
    const pre = code.parentElement;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "copy-code";
    button.textContent = copyLabel;
    button.addEventListener("click", () => navigator.clipboard?.writeText(code.textContent));
    pre.prepend(button);
  });
}

function render(source, sources, onCite, copyLabel) {
  installHooks();
  const maths = [];
  const html = marked.parse(cutMath(source, maths), { gfm: true, breaks: false,
    async: false });
  const frag = DOMPurify.sanitize(html, CONFIG);
  putMath(frag, maths);
  putCitations(frag, sources, onCite);
  decorateCode(frag, copyLabel);
  return frag;
}

// Render untrusted Markdown into `target` (its children are replaced). Never throws: if
// any step fails on some output nobody foresaw, the answer is shown as plain text (the
// safest rendering there is) instead of leaving the message blank.
export function renderInto(target, source, { sources = null, onCite = null,
  copyLabel = "Copy" } = {}) {
  const text = typeof source === "string" ? source : String(source ?? "");
  let frag;
  try {
    frag = render(text, Array.isArray(sources) ? sources : null, onCite, copyLabel);
  } catch (e) {
    console.error("markdown rendering failed; showing plain text", e);
    const pre = document.createElement("div");
    pre.className = "plain-fallback";
    pre.style.whiteSpace = "pre-wrap";
    pre.textContent = text;
    frag = pre;
  }
  target.replaceChildren(frag);
}

export const _testing = { cutMath };
