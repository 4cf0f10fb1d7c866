// The thread on screen: the messages of the current branch, their actions, job cards.
//
// Messages form a tree (edits and regenerations are branches). The page keeps the id
// of the leaf it shows; the thread is the path from the root to that leaf. A new turn
// is sent with parent_id = that leaf, so answering always continues what is on screen.
//
// Reports and decks started here are jobs of the conversation: each card shows after the
// message it followed (on that branch only), live while it runs, with its result after.

import { t } from "./i18n.js";
import { renderInto } from "./markdown.js";
import { follow } from "./jobs.js";
import { showSource } from "./citations.js";
import { renderSteps } from "./toolsteps.js";
import { $, el } from "./dom.js";
import { state } from "./chatstate.js";

// What the thread's buttons do beyond it, set by initChat (this keeps the imports one-way):
// send(parentId, text, branch) for edits and regenerations, makeDeck(report) for a report's
// "Make slides".
const hooks = { send: () => {}, makeDeck: () => {} };

export function setThreadHooks({ send, makeDeck }) {
  hooks.send = send;
  hooks.makeDeck = makeDeck;
}

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

export function dropCards() {
  for (const card of state.cards.values()) if (card._stop) card._stop();
  state.cards = new Map();
  state.pending = [];
  state.jobs = [];
}

function jobCard(job) {
  let card = state.cards.get(job.id);
  if (!card) {
    card = el("article", "job card");
    card._stop = follow(job, card, { onChange: scrollDown,
      onMakeDeck: (report) => hooks.makeDeck(report) });
    state.cards.set(job.id, card);
  }
  return card;
}

// The jobs shown on the current branch, oldest first, each with the message it follows
// ("" for those after the root or with no message).
function branchJobs(msgs) {
  const visible = new Set(msgs.map((m) => m.id));
  const out = [];
  for (const job of state.jobs) {
    const anchor = job.after_message_id;
    const known = anchor ? state.messages.get(anchor) : null;
    const key = anchor && visible.has(anchor) ? anchor
      : (!known || known.role === "system") ? "" : null;
    if (key !== null) out.push([key, job]); // null: on another branch
  }
  return out;
}

// The card of the newest finished deck or report on the current branch that can be revised
// (its revise box is drawn once the job is done), or null.
export function revisableCard() {
  const jobs = branchJobs(thread()).map(([, job]) => job).reverse();
  for (const job of jobs) {
    const card = state.cards.get(job.id);
    if ((job.kind === "deck" || job.kind === "report") && card && card.querySelector(".revise-form")) {
      return { job, card };
    }
  }
  return null;
}

export function renderThread() {
  const box = $("#messages");
  box.replaceChildren();
  const msgs = thread();
  // Jobs after the root (or with no message) come first; the others after their message.
  const after = new Map();
  for (const [key, job] of branchJobs(msgs)) {
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

export function scrollDown() {
  const s = $("#scroller");
  s.scrollTop = s.scrollHeight;
}

export function showError(text) {
  const box = el("div", "error-banner", text);
  $("#messages").append(box);
  scrollDown();
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
  if (m.tool_steps && m.tool_steps.length) {
    const steps = el("div", "tool-steps");
    renderSteps(steps, m.tool_steps);
    row.append(steps);
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
    if (text) hooks.send(m.parent_id, text, true);
  });
  const cancel = actionButton(t("cancel"), () => renderThread());
  row.replaceChildren(area, el("div", "actions"));
  row.lastChild.append(save, cancel);
  area.focus();
}

function regenerate(answer) {
  const question = state.messages.get(answer.parent_id);
  if (question) hooks.send(question.parent_id, question.content, true);
}
