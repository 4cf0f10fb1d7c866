// The composer: its modes (chat, research, slides), attachments, and submitting. A chat
// turn goes to send (chat.js), or revises the branch's last deck or report when it asks for a
// change of it; a report or a deck becomes a card in the thread, after a
// round of clarifying questions when "ask first" is on, then the job's card.

import { api, uploadDocument } from "./api.js";
import { t } from "./i18n.js";
import { startJob } from "./jobs.js";
import { clarify } from "./clarify.js";
import { $, el } from "./dom.js";
import { ensureConversation, options, state } from "./chatstate.js";
import { loadConversations } from "./conversations.js";
import { renderThread, revisableCard, scrollDown, showError } from "./thread.js";

// -- attachments ----------------------------------------------------------------------

// Uploads still being read: a turn sent meanwhile waits for them, so a file attached just
// before Enter is part of the turn (a report once started without its only document).
const reading = new Set();

function upload(files) {
  const done = uploadAll(files);
  reading.add(done);
  done.finally(() => reading.delete(done));
  return done;
}

async function uploadAll(files) {
  for (const f of files) {
    const chip = el("span", "chip pending", `${f.name} — ${t("uploading")}`);
    $("#attachments").append(chip);
    try {
      const doc = await uploadDocument(f, (done, total) => {
        chip.textContent = `${f.name} — ${t("ocrPages", { done, total })}`;
      });
      state.attachments.push({ id: doc.id, filename: doc.filename });
    } catch (e) {
      showError(`${f.name}: ${e.message}`);
    }
    chip.remove();
  }
  renderAttachments();
}

function renderAttachments() {
  const box = $("#attachments");
  box.replaceChildren();
  for (const a of state.attachments) {
    const chip = el("span", "chip", a.filename);
    const x = el("button", "icon small", "×");
    x.type = "button";
    x.addEventListener("click", () => {
      state.attachments = state.attachments.filter((b) => b.id !== a.id);
      renderAttachments();
    });
    chip.append(x);
    box.append(chip);
  }
}

export function clearAttachments() {
  state.attachments = [];
  renderAttachments();
}

// -- modes and submitting ---------------------------------------------------------------

function setMode(mode) {
  state.mode = mode;
  document.querySelectorAll(".modes [data-mode]").forEach((b) => {
    b.setAttribute("aria-selected", String(b.dataset.mode === mode));
  });
  $("#research-options").hidden = mode !== "research";
  $("#slides-options").hidden = mode !== "slides";
  $("#ask-option").hidden = mode === "chat";
  const key = { chat: "placeholderChat", research: "placeholderResearch",
    slides: "placeholderSlides" }[mode];
  $("#prompt").dataset.i18nPlaceholder = key;
  $("#prompt").placeholder = t(key);
}

async function submit(send) {
  const text = $("#prompt").value.trim();
  if (!text || state.streaming) return;
  $("#prompt").value = "";
  autosize();
  if (reading.size) await Promise.allSettled([...reading]);
  if (state.mode === "chat") {
    if (!(await revised(text))) await send(null, text);
    return;
  }
  const ids = state.attachments.map((a) => a.id);
  const form = $("#composer").elements;
  const field = (name) => form.namedItem(name).value;
  let body;
  if (state.mode === "research") {
    const web = form.namedItem("web").checked && state.web;
    body = { kind: "report", question: text, depth: field("depth"), length: field("length"),
      audience: field("audience"), model: options().model, web };
    if (ids.length) body.document_ids = ids;
    else if (!web) body.allow_uncited = !(await hasDocuments());
  } else {
    body = { kind: "deck", topic: text, slides: Number(field("slides")) || 8,
      theme: field("theme") || "light", audience: field("deck-audience"),
      document_ids: ids, model: options().model };
  }
  const cid = await ensureConversation(text);
  if (location.pathname !== `/c/${cid}`) history.pushState({}, "", `/c/${cid}`);
  body.conversation_id = cid;
  if (state.leaf) body.after_message_id = state.leaf;
  const card = el("article", "job card");
  state.pending.push(card);
  renderThread();
  const begin = (final) => launch(final, card);
  if (form.namedItem("ask").checked) {
    clarify(card, body, text, { model: options().model, start: begin,
      cancel: () => { forget(card); renderThread(); } });
  } else {
    begin(body);
  }
  loadConversations();
}

// A chat message that asks for a change of the deck or report this branch made last
// ("make slide 3 a chart", "make it shorter", "translate it into Chinese") revises it in its
// card, as its revise box would, instead of going to the chat model. The server reads the
// request without a model (…/revisions/preview); only a request it recognises as an edit
// of that job is routed (one naming a slide that does not exist gets the card's question),
// and a message with attachments is always a chat turn. Everything else is chat.
async function revised(text) {
  if (state.attachments.length) return false;
  const target = revisableCard();
  if (!target) return false;
  let read;
  try {
    read = await api("POST", `/api/jobs/${target.job.id}/revisions/preview`, { request: text });
  } catch {
    return false; // the job is gone or its report was deleted: an ordinary chat turn
  }
  if (!read.recognized) return false;
  const form = target.card.querySelector(".revise-form");
  form.elements.namedItem("revision").value = text;
  form.requestSubmit();
  target.card.scrollIntoView({ block: "nearest" });
  return true;
}

function forget(card) {
  state.pending = state.pending.filter((c) => c !== card);
  card.remove();
}

// Turn a pending card into the job's card; it then lives in the thread after its message.
async function launch(body, card) {
  const job = await startJob(body, card, { onChange: scrollDown, onMakeDeck: makeDeck });
  if (!job) return; // refused: the card says why and stays until the page changes
  state.pending = state.pending.filter((c) => c !== card);
  if (body.conversation_id !== state.current) { if (card._stop) card._stop(); return; }
  state.jobs.push(job);
  state.cards.set(job.id, card);
  renderThread();
}

// A deck presenting a finished report, in the conversation the report is in.
export function makeDeck(report) {
  const form = $("#composer").elements;
  const body = { kind: "deck", from_job: report.id, slides: Number(form.namedItem("slides").value) || 8,
    theme: form.namedItem("theme").value || "light", model: options().model,
    conversation_id: state.current, after_message_id: state.leaf || undefined };
  if (!state.current) delete body.conversation_id;
  const card = el("article", "job card");
  state.pending.push(card);
  renderThread();
  launch(body, card);
}

async function hasDocuments() {
  const docs = await api("GET", "/api/documents");
  return docs.documents.length > 0;
}

function autosize() {
  const p = $("#prompt");
  p.style.height = "auto";
  p.style.height = `${Math.min(p.scrollHeight, 240)}px`;
}

// Wire the composer. send(parentId, text) sends a chat turn (chat.js's sendFrom).
export function initComposer({ themes, web, defaults, send }) {
  state.web = !!web;
  $("#web-option").hidden = !web;
  const themeSelect = $("#composer").elements.namedItem("theme");
  themeSelect.replaceChildren(...themes.map((name) => {
    const o = el("option", null, name);
    o.value = name;
    return o;
  }));
  $("#composer").addEventListener("submit", (ev) => { ev.preventDefault(); submit(send); });
  $("#prompt").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); submit(send); }
  });
  $("#prompt").addEventListener("input", autosize);
  $("#attach").addEventListener("click", () => $("#file").click());
  $("#file").addEventListener("change", (ev) => { upload([...ev.target.files]); ev.target.value = ""; });
  document.querySelectorAll(".modes [data-mode]").forEach((b) => {
    b.addEventListener("click", () => setMode(b.dataset.mode));
  });
  const ask = $("#composer").elements.namedItem("ask");
  ask.checked = defaults.ask !== false;
  ask.addEventListener("change", () => {
    const prefs = JSON.parse(localStorage.getItem("qwenapp.prefs") || "{}");
    localStorage.setItem("qwenapp.prefs", JSON.stringify({ ...prefs, ask: ask.checked }));
  });
}
