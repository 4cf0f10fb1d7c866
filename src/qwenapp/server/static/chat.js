// The chat view: conversation list, the thread of messages, the composer.
//
// Messages form a tree (edits and regenerations are branches). The page keeps the id
// of the leaf it shows; the thread is the path from the root to that leaf. A new turn
// is sent with parent_id = that leaf, so answering always continues what is on screen.

import { api, postStream, ApiError } from "./api.js";
import { t } from "./i18n.js";
import { renderInto } from "./markdown.js";
import { startJob } from "./jobs.js";

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

export async function openConversation(id) {
  stopStreaming();
  state.current = id;
  state.messages = new Map();
  state.leaf = null;
  $("#job-cards").replaceChildren();
  if (id) {
    try {
      const data = await api("GET", `/api/conversations/${id}`);
      for (const m of data.messages) state.messages.set(m.id, m);
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

function renderThread() {
  const box = $("#messages");
  box.replaceChildren();
  const msgs = thread();
  for (const m of msgs) box.append(messageView(m));
  $("#empty-hint").hidden = msgs.length > 0 || $("#job-cards").children.length > 0;
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

function showSource(src) {
  const box = el("dialog", "source");
  box.append(el("h3", null, `[${src.n}] ${src.filename} — ${src.location}`),
    el("blockquote", null, src.text));
  const close = el("button", null, "OK");
  close.addEventListener("click", () => box.close());
  box.append(close);
  box.addEventListener("close", () => box.remove());
  document.body.append(box);
  box.showModal();
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

async function ensureConversation() {
  if (state.current) return state.current;
  const conv = await api("POST", "/api/conversations", { model: options().model });
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
  const ids = state.attachments.map((a) => a.id);
  if (state.mode === "chat") {
    await sendFrom(null, text);
    return;
  }
  const field = (name) => $("#composer").elements.namedItem(name).value;
  let body;
  if (state.mode === "research") {
    const web = $("#composer").elements.namedItem("web").checked && state.web;
    body = { kind: "report", question: text, depth: field("depth"), length: field("length"),
      audience: field("audience"), model: options().model, web };
    if (ids.length) body.document_ids = ids;
    else if (!web) body.allow_uncited = !(await hasDocuments());
  } else {
    body = { kind: "deck", topic: text, slides: Number(field("slides")) || 8,
      theme: field("theme") || "light", audience: field("deck-audience"),
      document_ids: ids, model: options().model };
  }
  $("#empty-hint").hidden = true;
  await startJob(body, $("#job-cards"), scrollDown);
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
  $("#new-chat").addEventListener("click", () => {
    state.attachments = [];
    renderAttachments();
    navigate("/");
  });
}
