// The chat view: conversation list, the thread of messages, the composer.
//
// Messages form a tree (edits and regenerations are branches). The page keeps the id
// of the leaf it shows; the thread is the path from the root to that leaf. A new turn
// is sent with parent_id = that leaf, so answering always continues what is on screen.
//
// Reports and decks started here are jobs of the conversation: each card shows after the
// message it followed (on that branch only), live while it runs, with its result after.

import { api, postStream, ApiError } from "./api.js";
import { t } from "./i18n.js";
import { renderInto } from "./markdown.js";
import { follow, startJob } from "./jobs.js";
import { clarify } from "./clarify.js";
import { showSource } from "./citations.js";

const $ = (sel) => document.querySelector(sel);

const state = {
  conversations: [],
  current: null, // conversation id
  messages: new Map(), // id -> message
  leaf: null,
  streaming: null, // { controller }
  mode: "chat",
  attachments: [], // { id, filename }
  models: [],
  sources: new Map(), // assistant message id -> sources of its turn
  jobs: [], // jobs of this conversation (JobOut), oldest first
  cards: new Map(), // job id -> its card element (kept across re-renders while following)
  pending: [], // cards not yet jobs (clarifying questions), shown at the end
  navigate: () => {},
};

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

// -- conversation list ----------------------------------------------------------------

export async function loadConversations() {
  const q = $("#search").value.trim();
  const path = q ? `/api/conversations?q=${encodeURIComponent(q)}` : "/api/conversations";
  const data = await api("GET", path);
  state.conversations = data.conversations;
  renderList();
}

function renderList() {
  const nav = $("#conversations");
  nav.replaceChildren();
  for (const c of state.conversations) {
    const item = el("div", "conv" + (c.id === state.current ? " active" : ""));
    const link = el("a", "title", c.title || t("untitled"));
    link.href = `/c/${c.id}`;
    link.dataset.id = c.id;
    link.addEventListener("click", (ev) => { ev.preventDefault(); state.navigate(`/c/${c.id}`); });
    item.append(link);
    if (c.snippet) item.append(el("small", "snippet", c.snippet));
    const rename = el("button", "icon small", "✎");
    rename.type = "button";
    rename.title = t("rename");
    rename.addEventListener("click", async () => {
      const title = prompt(t("rename"), c.title || "");
      if (title && title.trim()) {
        await api("PATCH", `/api/conversations/${c.id}`, { title: title.trim() });
        loadConversations();
      }
    });
    const del = el("button", "icon small", "×");
    del.type = "button";
    del.title = t("delete");
    del.addEventListener("click", async () => {
      if (!confirm(t("confirmDelete"))) return;
      await api("DELETE", `/api/conversations/${c.id}`);
      if (state.current === c.id) state.navigate("/");
      loadConversations();
    });
    item.append(rename, del);
    nav.append(item);
  }
}

// -- the thread -----------------------------------------------------------------------

function thread() {
  const out = [];
  let id = state.leaf;
  while (id && state.messages.has(id)) {
    out.unshift(state.messages.get(id));
    id = state.messages.get(id).parent_id;
  }
  return out.filter((m) => m.role !== "system");
}

function children(id) {
  return [...state.messages.values()].filter((m) => m.parent_id === id);
}

function siblings(m) {
  return [...state.messages.values()].filter((x) => x.parent_id === m.parent_id &&
    x.role === m.role);
}

function deepestLeaf(id) {
  let cur = id;
  for (;;) {
    const kids = children(cur);
    if (!kids.length) return cur;
    cur = kids[kids.length - 1].id;
  }
}

function dropCards() {
  for (const card of state.cards.values()) if (card._stop) card._stop();
  state.cards = new Map();
  state.pending = [];
  state.jobs = [];
}

export async function openConversation(id) {
  stopStreaming();
  if (id !== state.current || !id) dropCards();
  state.current = id;
  state.messages = new Map();
  state.leaf = null;
  if (id) {
    try {
      const data = await api("GET", `/api/conversations/${id}`);
      for (const m of data.messages) {
        state.messages.set(m.id, m);
        if (m.sources) state.sources.set(m.id, m.sources);
      }
      state.jobs = data.jobs || [];
      state.leaf = data.thread.length ? data.thread[data.thread.length - 1] : null;
      if (data.conversation.model && state.models.some((m) => m.name === data.conversation.model)) {
        $("#model").value = data.conversation.model;
      }
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) { state.navigate("/"); return; }
      throw e;
    }
  }
  renderThread();
  renderList();
}

function jobCard(job) {
  let card = state.cards.get(job.id);
  if (!card) {
    card = el("article", "job card");
    card._stop = follow(job, card, { onChange: scrollDown, onMakeDeck: makeDeck });
    state.cards.set(job.id, card);
  }
  return card;
}

function renderThread() {
  const box = $("#messages");
  box.replaceChildren();
  const msgs = thread();
  // Jobs after the root (or with no message) come first; the others after their message.
  const visible = new Set(msgs.map((m) => m.id));
  const after = new Map();
  for (const job of state.jobs) {
    const anchor = job.after_message_id;
    const known = anchor ? state.messages.get(anchor) : null;
    const key = anchor && visible.has(anchor) ? anchor
      : (!known || known.role === "system") ? "" : null;
    if (key === null) continue; // on another branch
    if (!after.has(key)) after.set(key, []);
    after.get(key).push(job);
  }
  const cardsAfter = (key) => { for (const j of after.get(key) || []) box.append(jobCard(j)); };
  cardsAfter("");
  for (const m of msgs) {
    box.append(messageView(m));
    cardsAfter(m.id);
  }
  for (const card of state.pending) box.append(card);
  $("#empty-hint").hidden = box.children.length > 0;
  scrollDown();
}

function scrollDown() {
  const s = $("#scroller");
  s.scrollTop = s.scrollHeight;
}

function branchSwitcher(m) {
  const sibs = siblings(m);
  if (sibs.length < 2) return null;
  const i = sibs.findIndex((x) => x.id === m.id);
  const wrap = el("span", "branches");
  const prev = el("button", "icon small", "‹");
  const next = el("button", "icon small", "›");
  prev.type = next.type = "button";
  prev.disabled = i === 0;
  next.disabled = i === sibs.length - 1;
  prev.addEventListener("click", () => { state.leaf = deepestLeaf(sibs[i - 1].id); renderThread(); });
  next.addEventListener("click", () => { state.leaf = deepestLeaf(sibs[i + 1].id); renderThread(); });
  wrap.append(prev, el("span", "count", `${i + 1}/${sibs.length}`), next);
  return wrap;
}

function actionButton(label, fn) {
  const b = el("button", "action", label);
  b.type = "button";
  b.addEventListener("click", fn);
  return b;
}

function copyButton(getText) {
  const b = actionButton(t("copy"), async () => {
    await navigator.clipboard?.writeText(getText());
    b.textContent = t("copied");
    setTimeout(() => { b.textContent = t("copy"); }, 1200);
  });
  return b;
}

function messageView(m) {
  const row = el("article", `msg ${m.role}`);
  row.dataset.id = m.id;
  if (m.role === "user") {
    const body = el("div", "bubble");
    body.textContent = m.content;
    row.append(body);
    const actions = el("div", "actions");
    actions.append(copyButton(() => m.content), actionButton(t("edit"), () => editMessage(row, m)));
    const sw = branchSwitcher(m);
    if (sw) actions.append(sw);
    row.append(actions);
    return row;
  }
  if (m.reasoning) {
    const details = el("details", "reasoning");
    details.append(el("summary", null, t("thought")));
    const inner = el("div", "markdown");
    renderInto(inner, m.reasoning, { copyLabel: t("copy") });
    details.append(inner);
    row.append(details);
  }
  const body = el("div", "markdown answer");
  renderInto(body, m.content, { sources: state.sources.get(m.id), copyLabel: t("copy"),
    onCite: showSource });
  row.append(body);
  if (m.status === "interrupted" || m.status === "error") {
    row.append(el("span", `tag ${m.status}`, m.status === "error" ? t("error") : t("interrupted")));
  }
  const actions = el("div", "actions");
  actions.append(copyButton(() => m.content), actionButton(t("regenerate"), () => regenerate(m)));
  const sw = branchSwitcher(m);
  if (sw) actions.append(sw);
  if (m.model) actions.append(el("small", "muted", m.model));
  row.append(actions);
  return row;
}

function editMessage(row, m) {
  const area = el("textarea", "edit");
  area.value = m.content;
  const save = actionButton(t("save"), () => {
    const text = area.value.trim();
    if (text) sendFrom(m.parent_id, text, true);
  });
  const cancel = actionButton(t("cancel"), () => renderThread());
  row.replaceChildren(area, el("div", "actions"));
  row.lastChild.append(save, cancel);
  area.focus();
}

function regenerate(answer) {
  const question = state.messages.get(answer.parent_id);
  if (question) sendFrom(question.parent_id, question.content, true);
}

// -- sending --------------------------------------------------------------------------

function options() {
  return { model: $("#model").value || null, think: $("#think").checked };
}

async function ensureConversation(title = null) {
  if (state.current) return state.current;
  const conv = await api("POST", "/api/conversations", { model: options().model,
    title: title ? title.slice(0, 200) : null });
  state.current = conv.id;
  history.pushState({}, "", `/c/${conv.id}`);
  return conv.id;
}

// Send `text` as a new user message after `parentId` (null: the end of the thread).
// `branch` is true for edits and regenerations.
async function sendFrom(parentId, text, branch = false) {
  if (state.streaming) return;
  if (branch && !parentId) {
    // The conversation has no root to branch from (made by the CLI): start a new one.
    state.current = null;
    state.messages = new Map();
    state.leaf = null;
  }
  const cid = await ensureConversation();
  const parent = branch ? parentId : state.leaf;
  const tempUser = { id: "pending-user", role: "user", content: text, parent_id: parent };
  const tempAnswer = { id: "pending-answer", role: "assistant", content: "", reasoning: "",
    parent_id: "pending-user", status: "streaming" };
  state.messages.set(tempUser.id, tempUser);
  state.messages.set(tempAnswer.id, tempAnswer);
  state.leaf = tempAnswer.id;
  renderThread();
  const view = $("#messages").lastElementChild;
  const body = view.querySelector(".answer");
  let details = null;
  let sources = null;
  view.classList.add("streaming");
  let frame = 0;
  const paint = () => {
    frame = 0;
    if (tempAnswer.reasoning) {
      if (!details) {
        details = el("details", "reasoning");
        details.open = true;
        details.append(el("summary", null, t("thinking")), el("div", "markdown"));
        view.insertBefore(details, body);
      }
      renderInto(details.lastChild, tempAnswer.reasoning);
    }
    renderInto(body, tempAnswer.content, { sources, onCite: showSource, copyLabel: t("copy") });
    scrollDown();
  };
  const schedule = () => { if (!frame) frame = requestAnimationFrame(paint); };
  const controller = new AbortController();
  state.streaming = { controller };
  setBusy(true);
  let failure = null;
  try {
    await postStream(`/api/conversations/${cid}/messages`, {
      content: text, parent_id: parent, ...options(),
      document_ids: state.attachments.map((a) => a.id),
    }, (name, data) => {
      if (name === "text") { tempAnswer.content += data.text; schedule(); }
      else if (name === "reasoning") { tempAnswer.reasoning += data.text; schedule(); }
      else if (name === "sources") { sources = data.sources; }
      else if (name === "saved") { if (sources) state.sources.set(data.message_id, sources); }
      else if (name === "error") { failure = data.message + (data.hint ? ` (${data.hint})` : ""); }
    }, controller.signal);
  } catch (e) {
    if (e.name !== "AbortError") failure = e.message;
  } finally {
    state.streaming = null;
    setBusy(false);
  }
  if (controller.signal.aborted) await new Promise((r) => setTimeout(r, 300));
  await openConversation(cid);
  if (failure) showError(failure);
  loadConversations();
}

function showError(text) {
  const box = el("div", "error-banner", text);
  $("#messages").append(box);
  scrollDown();
}

function setBusy(busy) {
  $("#send").hidden = busy;
  $("#stop").hidden = !busy;
  $("#prompt").disabled = false;
}

export function stopStreaming() {
  if (state.streaming) state.streaming.controller.abort();
}

// -- attachments ----------------------------------------------------------------------

async function upload(files) {
  for (const f of files) {
    const chip = el("span", "chip pending", `${f.name} — ${t("uploading")}`);
    $("#attachments").append(chip);
    const form = new FormData();
    form.append("file", f, f.name);
    try {
      const doc = await api("POST", "/api/documents", form);
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

// -- composer -------------------------------------------------------------------------

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

async function submit() {
  const text = $("#prompt").value.trim();
  if (!text || state.streaming) return;
  $("#prompt").value = "";
  autosize();
  if (state.mode === "chat") {
    await sendFrom(null, text);
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
function makeDeck(report) {
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

export function initChat({ models, themes, navigate, defaults, web }) {
  state.models = models;
  state.web = !!web;
  $("#web-option").hidden = !web;
  state.navigate = navigate;
  const pick = $("#model");
  pick.replaceChildren();
  for (const m of models) {
    const o = el("option", null, m.name);
    o.value = m.name;
    pick.append(o);
  }
  if (defaults.model && models.some((m) => m.name === defaults.model)) pick.value = defaults.model;
  $("#think").checked = !!defaults.think;
  const themeSelect = $("#composer").elements.namedItem("theme");
  themeSelect.replaceChildren(...themes.map((name) => {
    const o = el("option", null, name);
    o.value = name;
    return o;
  }));
  $("#composer").addEventListener("submit", (ev) => { ev.preventDefault(); submit(); });
  $("#prompt").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); submit(); }
  });
  $("#prompt").addEventListener("input", autosize);
  $("#stop").addEventListener("click", stopStreaming);
  $("#attach").addEventListener("click", () => $("#file").click());
  $("#file").addEventListener("change", (ev) => { upload([...ev.target.files]); ev.target.value = ""; });
  document.querySelectorAll(".modes [data-mode]").forEach((b) => {
    b.addEventListener("click", () => setMode(b.dataset.mode));
  });
  let timer = 0;
  $("#search").addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(loadConversations, 200);
  });
  const ask = $("#composer").elements.namedItem("ask");
  ask.checked = defaults.ask !== false;
  ask.addEventListener("change", () => {
    const prefs = JSON.parse(localStorage.getItem("qwenapp.prefs") || "{}");
    localStorage.setItem("qwenapp.prefs", JSON.stringify({ ...prefs, ask: ask.checked }));
  });
  $("#new-chat").addEventListener("click", () => {
    state.attachments = [];
    renderAttachments();
    navigate("/");
  });
}
