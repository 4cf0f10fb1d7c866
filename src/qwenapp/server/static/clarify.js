// One round of clarifying questions before a report or a deck, as the Qwen app asks.
//
// The card asks the server for the model's questions about scope (POST /api/clarify) and
// adds the two the page always asks: audience and length (slide count for decks). Start
// sends the answers with the job; Skip starts at once with what the composer says. The
// same card element then becomes the job's card.

import { api } from "./api.js";
import { t } from "./i18n.js";
import { el } from "./dom.js";

function questionField(q, i) {
  const box = el("fieldset", "question");
  box.append(el("legend", null, q.question));
  const input = el("input");
  input.name = `answer-${i}`;
  input.maxLength = 1000;
  input.placeholder = t("yourAnswer");
  input.dataset.question = q.question;
  if (q.options.length) {
    const chips = el("div", "chips options-chips");
    for (const opt of q.options) {
      const chip = el("button", "chip choice", opt);
      chip.type = "button";
      chip.addEventListener("click", () => {
        input.value = input.value === opt ? "" : opt;
        chips.querySelectorAll(".choice").forEach((c) => {
          c.classList.toggle("selected", c.textContent === input.value);
        });
      });
      chips.append(chip);
    }
    box.append(chips);
  }
  box.append(input);
  return box;
}

function lengthField(body) {
  const label = el("label");
  if (body.kind === "report") {
    label.append(el("span", null, t("length")));
    const select = el("select");
    select.name = "length";
    for (const v of ["short", "medium", "long"]) {
      const o = el("option", null, t(v));
      o.value = v;
      select.append(o);
    }
    select.value = body.length || "medium";
    label.append(select);
  } else {
    label.append(el("span", null, t("slides")));
    const input = el("input");
    input.type = "number";
    input.name = "slides";
    input.min = "3";
    input.max = "30";
    input.value = String(body.slides || 8);
    label.append(input);
  }
  return label;
}

// Ask, then call start(body) with the answers folded in; cancel() if the user drops it.
export function clarify(card, body, text, { model, start, cancel }) {
  card.classList.add("clarify");
  const head = el("header", "job-head");
  head.append(el("span", "kind", body.kind === "report" ? t("report") : t("deck")),
    el("strong", "job-title", text));
  const status = el("p", "muted clarify-status", t("askingQuestions"));
  const form = el("form", "clarify-form");
  const skip = el("button", "action", t("skipQuestions"));
  skip.type = "button";
  const drop = el("button", "action", t("cancel"));
  drop.type = "button";
  head.append(skip, drop);
  card.replaceChildren(head, status, form);
  let done = false;
  // Skipping or cancelling while the model is still asking frees its slot at once (the
  // server stops a request whose client went away).
  const asking = new AbortController();
  const go = (answers) => {
    if (done) return;
    done = true;
    asking.abort();
    start({ ...body, ...answers });
  };
  skip.addEventListener("click", () => go({}));
  drop.addEventListener("click", () => { done = true; asking.abort(); cancel(); });

  const showForm = (questions, note) => {
    if (done) return;
    status.textContent = note || t("clarifyIntro");
    const fields = questions.map((q, i) => questionField(q, i));
    const audience = el("label");
    const audienceInput = el("input");
    audienceInput.name = "audience";
    audienceInput.maxLength = 200;
    audienceInput.value = body.audience || "";
    audienceInput.placeholder = t("audienceHint");
    audience.append(el("span", null, t("audience")), audienceInput);
    const row = el("div", "options");
    row.append(audience, lengthField(body));
    const submit = el("button", "primary", t("startJob"));
    submit.type = "submit";
    form.replaceChildren(...fields, row, submit);
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const clarifications = [...form.querySelectorAll("input[data-question]")]
        .filter((i) => i.value.trim())
        .map((i) => ({ question: i.dataset.question, answer: i.value.trim() }));
      const answers = { clarifications, audience: audienceInput.value.trim() };
      const len = form.elements.namedItem(body.kind === "report" ? "length" : "slides");
      if (body.kind === "report") answers.length = len.value;
      else answers.slides = Math.min(30, Math.max(3, Number(len.value) || 8));
      go(answers);
    });
    const first = form.querySelector("input");
    if (first) first.focus();
  };

  api("POST", "/api/clarify", { kind: body.kind, text, model }, { signal: asking.signal })
    .then((res) => showForm(res.questions))
    .catch((e) => {
      if (e.name !== "AbortError") showForm([], `${e.message}${e.hint ? ` (${e.hint})` : ""}`);
    });
}
