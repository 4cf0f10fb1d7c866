// The citation viewer: what [n] refers to, opened from a chat answer or a report.
//
// A source is { n, filename, location, text, url?, file? } (file: the document it is from,
// when filename is its title). Chat turns get theirs from the server
// (the excerpts the model was given); reports from report.json (each reference and the
// passage behind it).

import { t } from "./i18n.js";
import { el } from "./dom.js";

export function showSource(src) {
  const box = el("dialog", "source");
  const where = [src.filename, src.location].filter(Boolean).join(" — ");
  box.append(el("h3", null, `[${src.n}] ${where}`));
  if (src.file && src.file !== src.filename) box.append(el("p", "muted source-file", src.file));
  box.append(el("blockquote", null, src.text));
  if (src.url && /^https?:\/\//i.test(src.url)) {
    const link = el("a", "source-link", src.url);
    link.href = src.url;
    link.target = "_blank";
    link.rel = "noopener noreferrer nofollow";
    box.append(el("p", null), link);
  }
  const close = el("button", null, t("close"));
  close.type = "button";
  close.addEventListener("click", () => box.close());
  box.append(el("div", "dialog-actions"));
  box.lastChild.append(close);
  box.addEventListener("close", () => box.remove());
  document.body.append(box);
  box.showModal();
}

// report.json (the public Report) -> sources for its [n] citations.
export function reportSources(report) {
  const passages = new Map((report.passages || []).map((p) => [p.id, p]));
  return (report.references || []).map((r) => {
    const p = passages.get(r.passage_id);
    const web = /^https?:\/\//i.test(r.locator);
    return { n: r.number, filename: r.title || r.locator, location: r.location,
      text: p ? p.text : "", url: web ? r.locator : null, file: web ? null : r.locator };
  });
}
