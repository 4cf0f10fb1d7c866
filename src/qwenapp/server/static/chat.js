// The chat view: opening a conversation, sending a turn and streaming its answer, and
// wiring the view (initChat). The pieces live beside it: chatstate.js (shared state),
// conversations.js (the sidebar list), thread.js (the messages on screen), composer.js
// (modes, attachments, reports and decks).
//
// A new turn is sent with parent_id = the leaf on screen, so answering always continues
// what is on screen (the message tree is described in thread.js). Tool calls stream as
// steps above the answer (toolsteps.js); the tools a turn may use come from tools.js.

import { api, postStream, ApiError } from "./api.js";
import { t } from "./i18n.js";
import { renderInto } from "./markdown.js";
import { showSource } from "./citations.js";
import { $, el } from "./dom.js";
import { ensureConversation, options, state } from "./chatstate.js";
import { initSearch, loadConversations, renderList } from "./conversations.js";
import { dropCards, renderThread, scrollDown, setThreadHooks, showError } from "./thread.js";
import { clearAttachments, initComposer, makeDeck } from "./composer.js";
import { initTools, turnTools } from "./tools.js";
import { applyToolEvent, renderSteps } from "./toolsteps.js";

export { loadConversations };

// `leaf`: the message to show the branch of, when it is in the conversation (a branch the
// user switched to while an answer was streaming); otherwise the newest branch.
export async function openConversation(id, leaf = null) {
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
      state.leaf = leaf && state.messages.has(leaf) ? leaf
        : data.thread.length ? data.thread[data.thread.length - 1] : null;
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

// -- sending --------------------------------------------------------------------------

// Send `text` as a new user message after `parentId` (null: the end of the thread).
// `branch` is true for edits and regenerations.
async function sendFrom(parentId, text, branch = false) {
  if (state.streaming) return;
  // Editing the first question of a conversation with no root message (made by the CLI):
  // the edit becomes a new first message, a sibling of the old one.
  const fromRoot = branch && !parentId && !!state.current;
  const cid = await ensureConversation();
  const parent = branch ? parentId : state.leaf;
  const tempUser = { id: "pending-user", role: "user", content: text, parent_id: parent };
  const tempAnswer = { id: "pending-answer", role: "assistant", content: "", reasoning: "",
    parent_id: "pending-user", status: "streaming", tool_steps: [] };
  state.messages.set(tempUser.id, tempUser);
  state.messages.set(tempAnswer.id, tempAnswer);
  state.leaf = tempAnswer.id;
  renderThread();
  const view = $("#messages").lastElementChild;
  const body = view.querySelector(".answer");
  let details = null;
  let sources = null;
  let stepsBox = null;
  const showSteps = () => {
    if (!stepsBox) {
      stepsBox = el("div", "tool-steps");
      view.insertBefore(stepsBox, body);
    }
    renderSteps(stepsBox, tempAnswer.tool_steps);
    scrollDown();
  };
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
      content: text, parent_id: parent, from_root: fromRoot || undefined, ...options(),
      document_ids: state.attachments.map((a) => a.id), tools: turnTools(),
    }, (name, data) => {
      if (name.startsWith("tool_")) { applyToolEvent(tempAnswer.tool_steps, name, data); showSteps(); }
      else if (name === "text") { tempAnswer.content += data.text; schedule(); }
      else if (name === "reasoning") { tempAnswer.reasoning += data.text; schedule(); }
      else if (name === "sources") { sources = data.sources; }
      else if (name === "saved") { if (sources) state.sources.set(data.message_id, sources); }
      else if (name === "error") { failure = data.message + (data.hint ? ` (${data.hint})` : ""); }
    }, controller.signal);
  } catch (e) {
    if (e.name !== "AbortError") failure = e.message;
  } finally {
    state.streaming = null;
  }
  // The send button comes back only once the saved thread is on screen: a branch the user
  // switches to right after the answer ends must not be replaced by the reload.
  try {
    if (controller.signal.aborted) await new Promise((r) => setTimeout(r, 300));
    const chosen = state.leaf && !String(state.leaf).startsWith("pending-") ? state.leaf : null;
    await openConversation(cid, chosen);
  } finally {
    setBusy(false);
  }
  if (failure) showError(failure);
  loadConversations();
}

function setBusy(busy) {
  $("#send").hidden = busy;
  $("#stop").hidden = !busy;
  $("#prompt").disabled = false;
}

export function stopStreaming() {
  if (state.streaming) state.streaming.controller.abort();
}

// -- wiring ---------------------------------------------------------------------------

export function initChat({ models, themes, navigate, defaults, web }) {
  state.models = models;
  state.navigate = navigate;
  setThreadHooks({ send: sendFrom, makeDeck });
  const pick = $("#model");
  pick.replaceChildren();
  for (const m of models) {
    const o = el("option", null, m.name);
    o.value = m.name;
    pick.append(o);
  }
  if (defaults.model && models.some((m) => m.name === defaults.model)) pick.value = defaults.model;
  $("#think").checked = !!defaults.think;
  initComposer({ themes, web, defaults, send: sendFrom });
  initTools();
  $("#stop").addEventListener("click", stopStreaming);
  initSearch();
  $("#new-chat").addEventListener("click", () => {
    clearAttachments();
    navigate("/");
  });
}
