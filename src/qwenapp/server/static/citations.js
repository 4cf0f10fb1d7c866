// The citation viewer: what [n] refers to, opened from a chat answer or a report.
//
// A source is { n, filename, location, text, url?, file?, sentences? } (file: the document
// it is from, when filename is its title). Chat turns get theirs from the server
// (the excerpts the model was given); reports from report.json (each reference and the
// passage behind it, and sentence provenance: every report sentence that cites it, with
// the source sentence it was written from and the verifier's support score).
//
// For a report, the dialog opens on the clicked sentence: it shows that sentence, how it
// is backed (reworded from, or quoted from, the source; its support score) and the
// passage with the supporting sentence(s) marked.

import { language, t } from "./i18n.js";
import { el } from "./dom.js";

const WORDS = {
  en: { model: "reworded from the source", extract: "quoted from the source",
    support: "support", joined: "joins two sources" },
  zh: { model: "据来源改写", extract: "引自来源", support: "支持度", joined: "综合两个来源" },
};

function word(key) {
  return (WORDS[language()] || WORDS.en)[key];
}

// The chip last clicked (seen before its own handler runs, which opens the dialog).
let lastChip = null;
document.addEventListener("click", (e) => {
  const chip = e.target && e.target.closest ? e.target.closest("button.cite") : null;
  if (chip) lastChip = chip;
}, true);

const squash = (s) => (s || "").replace(/\[\d+\]|[“”"*_`]/g, "").replace(/\s+/g, " ").trim();

// The text just before a chip, back to the previous chip: the sentence it cites.
function textBefore(chip) {
  let text = "";
  for (let n = chip.previousSibling; n; n = n.previousSibling) {
    if (n.nodeType === 1 && n.classList && n.classList.contains("cite")) break;
    text = n.textContent + text;
  }
  return squash(text);
}

// The report sentence a click was on: the one citing this source whose text ends the
// text before the chip (or, failing that, shares most of its words with it).
function clickedSentence(src) {
  const list = src.sentences || [];
  if (!list.length) return null;
  const before = lastChip && lastChip.isConnected ? textBefore(lastChip) : "";
  lastChip = null;
  if (!before) return list.length === 1 ? list[0] : null;
  const exact = list.find((s) => {
    const body = squash(s.text).replace(/[.。!?！？]$/, "");
    return body && before.includes(body);
  });
  if (exact) return exact;
  const words = new Set(before.toLowerCase().split(/\W+/).filter(Boolean));
  let best = null;
  let score = 0;
  for (const s of list) {
    const w = squash(s.text).toLowerCase().split(/\W+/).filter(Boolean);
    const hit = w.filter((x) => words.has(x)).length / Math.max(w.length, 1);
    if (hit > score) { best = s; score = hit; }
  }
  return score >= 0.6 ? best : null;
}

// The passage, with the supporting source sentence(s) marked (text nodes only: no HTML).
function markedPassage(text, facts) {
  const quote = el("blockquote");
  const spans = [];
  const escape = (w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  for (const f of facts) {
    const probe = f.trim().replace(/[.。]$/, "");
    if (probe.length < 8) continue;
    // the passage keeps the document's line breaks; the fact was read with them joined
    const found = new RegExp(probe.split(/\s+/).map(escape).join("\\s+")).exec(text);
    if (found) spans.push([found.index, found.index + found[0].length]);
  }
  spans.sort((a, b) => a[0] - b[0]);
  let last = 0;
  for (const [start, end] of spans) {
    if (start < last) continue;
    quote.append(document.createTextNode(text.slice(last, start)));
    quote.append(el("mark", "support", text.slice(start, end)));
    last = end;
  }
  quote.append(document.createTextNode(text.slice(last)));
  return quote;
}

export function showSource(src) {
  const box = el("dialog", "source");
  const where = [src.filename, src.location].filter(Boolean).join(" — ");
  box.append(el("h3", null, `[${src.n}] ${where}`));
  if (src.file && src.file !== src.filename) box.append(el("p", "muted source-file", src.file));
  const sentence = clickedSentence(src);
  if (sentence) {
    const said = el("p", "cited-sentence", sentence.text);
    const how = [word(sentence.origin === "extract" ? "extract" : "model")];
    if ((sentence.passage_ids || []).length > 1) how.push(word("joined"));
    how.push(`${word("support")} ${Math.round((sentence.support || 0) * 100)}%`);
    box.append(said, el("p", "muted provenance", how.join(" · ")));
  }
  const facts = sentence && sentence.fact ? sentence.fact.split("\n") : [];
  box.append(markedPassage(src.text || "", facts));
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

// Every sentence of a report (summary, sections, conclusion) with its provenance.
function reportSentences(report) {
  return [
    ...(report.summary_sentences || []),
    ...(report.sections || []).flatMap((s) => s.sentences || []),
    ...(report.conclusion_sentences || []),
  ];
}

// report.json (the public Report) -> sources for its [n] citations.
export function reportSources(report) {
  const passages = new Map((report.passages || []).map((p) => [p.id, p]));
  const sentences = reportSentences(report);
  return (report.references || []).map((r) => {
    const p = passages.get(r.passage_id);
    const web = /^https?:\/\//i.test(r.locator);
    return { n: r.number, filename: r.title || r.locator, location: r.location,
      text: p ? p.text : "", url: web ? r.locator : null, file: web ? null : r.locator,
      sentences: sentences.filter((s) => (s.refs || []).includes(r.number)) };
  });
}
