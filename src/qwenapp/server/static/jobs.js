// Reports and decks as job cards: live progress from the job's SSE stream, then the
// result inline (the report rendered with clickable citations, the deck as thumbnails),
// the box to revise it by asking (revise.js), and downloads.

import { api } from "./api.js";
import { t } from "./i18n.js";
import { renderInto } from "./markdown.js";
import { reportSources, showSource } from "./citations.js";
import { el } from "./dom.js";
import { reviseBox } from "./revise.js";

const TERMINAL = new Set(["done", "failed", "cancelled"]);

// Create the job and follow it in `card` (an element already on the page). The job, or
// null when the server refused it (the reason is shown in the card).
export async function startJob(body, card, opts = {}) {
  card.className = "job card";
  card.replaceChildren(el("p", "muted", t("queued")));
  let job = null;
  try {
    job = await api("POST", "/api/jobs", body);
    card._stop = follow(job, card, opts);
  } catch (e) {
    card.replaceChildren(el("div", "error-banner", e.message + (e.hint ? ` (${e.hint})` : "")));
  }
  if (opts.onChange) opts.onChange();
  return job;
}

function header(job, card) {
  const head = el("header", "job-head");
  head.append(el("span", "kind", job.kind === "report" ? t("report") : t("deck")),
    el("strong", "job-title", job.title));
  const status = el("span", `status ${job.status}`, t(job.status));
  head.append(status);
  const cancel = el("button", "action", t("cancel"));
  cancel.type = "button";
  cancel.hidden = TERMINAL.has(job.status);
  cancel.addEventListener("click", () => api("POST", `/api/jobs/${job.id}/cancel`));
  head.append(cancel);
  card.replaceChildren(head);
  const answers = (job.request && job.request.clarifications) || [];
  if (answers.length || (job.request && job.request.audience)) {
    const box = el("details", "answers");
    box.append(el("summary", null, t("yourAnswers")));
    const list = el("dl");
    for (const a of answers) list.append(el("dt", null, a.question), el("dd", null, a.answer));
    if (job.request.audience) list.append(el("dt", null, t("audience")), el("dd", null, job.request.audience));
    box.append(list);
    card.append(box);
  }
  return { status, cancel };
}

// Follow a job's progress and show its result. `job` is the API's JobOut. Options:
// onChange (the card grew), onMakeDeck(job) (offer "Make slides" on a finished report),
// compact (the result folded away, for lists). Returns a function that stops following.
export function follow(job, card, { onChange = null, onMakeDeck = null, compact = false } = {}) {
  card.dataset.job = job.id;
  const opts = { onChange, onMakeDeck, compact };
  const { status, cancel } = header(job, card);
  const bar = el("progress", "bar");
  bar.max = 1;
  bar.value = 0;
  const log = el("ol", "job-log");
  card.append(bar, log);
  if (TERMINAL.has(job.status) && job.status !== "done") {
    log.append(el("li", "error", job.error || t(job.status)));
  }
  if (job.status === "done") {
    bar.remove();
    log.remove();
    showResult(job, card, opts);
    return () => {};
  }
  if (TERMINAL.has(job.status)) {
    bar.remove();
    return () => {};
  }
  const line = (text, cls) => { const li = el("li", cls, text); log.append(li); if (onChange) onChange(); return li; };
  const planned = (title, parts) => {
    const li = line(`${t("plan")}: ${title}`);
    const ul = el("ul");
    for (const p of parts) ul.append(el("li", null, p.heading));
    li.append(ul);
    bar.max = parts.length + 1;
  };
  const source = new EventSource(`/api/jobs/${job.id}/events`);
  const handlers = {
    running: () => { status.textContent = t("running"); status.className = "status running"; },
    resuming: (d) => line(d.reason, "muted"),
    plan: (d) => planned(d.title, d.sections),  // a report's sections
    outline: (d) => planned(d.title, d.slides),  // a deck's slides
    source_read: (d) => line(`${t("read")}: ${d.source}` +
      `${d.title && d.title !== d.source ? ` — ${d.title}` : ""} (${d.detail})`, "muted"),
    source_skipped: (d) => line(`${t("skipped")}: ${d.source}: ${d.reason}`, "warn"),
    stage_reused: (d) => line(`${t("stage")} ${d.stage}: ${t("reused")}`, "muted"),
    section_started: (d) => line(`${t("writing")}: ${d.heading}`, "muted"),
    section_written: (d) => { bar.value = d.index; line(t("sectionWritten", d)); },
    slide_written: (d) => { bar.value = d.index; line(`${t("slideWritten", d)}: ${d.heading}`); },
    warning: (d) => line(d.message, "warn"),
    note: (d) => line(d.text, "muted"),
    rendering: () => line(t("rendering"), "muted"),
  };
  const finish = async (name, data) => {
    source.close();
    cancel.hidden = true;
    status.textContent = t(name);
    status.className = `status ${name}`;
    bar.value = bar.max;
    if (name === "done") {
      const fresh = await api("GET", `/api/jobs/${job.id}`);
      bar.remove();
      const fold = el("details", "log-fold");  // the steps stay, folded under the result
      fold.append(el("summary", null, t("steps", { n: log.children.length })));
      log.replaceWith(fold);
      fold.append(log);
      showResult(fresh, card, opts);
    } else if (data && data.error) {
      line(data.error, "error");
    }
    if (onChange) onChange();
  };
  for (const [name, fn] of Object.entries(handlers)) {
    source.addEventListener(name, (ev) => fn(JSON.parse(ev.data)));
  }
  for (const name of TERMINAL) {
    source.addEventListener(name, (ev) => finish(name, JSON.parse(ev.data)));
  }
  return () => source.close();
}

function artifactLink(a) {
  const link = el("a", "button", `${t("download")} ${a.name.split(".").pop().toUpperCase()}`);
  link.href = a.url;
  link.setAttribute("download", a.name);
  link.dataset.artifact = a.name;
  return link;
}

async function showReport(job, view, onChange) {
  const arts = job.artifacts || [];
  const md = arts.find((a) => a.name === "report.md");
  if (!md) return;
  const data = arts.find((a) => a.name === "report.json");
  const body = el("div", "markdown report-body collapsed");
  const more = el("button", "action more", t("showAll"));
  more.type = "button";
  more.addEventListener("click", () => {
    const open = body.classList.toggle("collapsed");
    more.textContent = open ? t("showAll") : t("showLess");
  });
  view.append(body, more);
  // the current version's text (`version` busts the cache after a revision), the
  // sections it rewrote (1-based) marked
  const paint = async (version = 0, changed = []) => {
    const q = version ? `?v=${version}` : "";
    const [text, report] = await Promise.all([
      fetch(md.url + q, { credentials: "same-origin" }).then((r) => r.text()),
      data ? fetch(data.url + q, { credentials: "same-origin" }).then((r) => r.json()) : null,
    ]);
    renderInto(body, text, { sources: report ? reportSources(report) : null,
      onCite: showSource, copyLabel: t("copy") });
    const headings = new Set(changed.map((n) => report && report.sections[n - 1]
      && report.sections[n - 1].heading));
    body.querySelectorAll("h2").forEach((h) => h.classList.toggle("changed", headings.has(h.textContent)));
    if (onChange) onChange();
  };
  if (job.status === "done") view.append(reviseBox(job, view, onChange, { onVersion: paint }));
  await paint();
}

function showDeck(job, view) {
  const arts = job.artifacts || [];
  const thumbs = arts.filter((a) => a.media_type === "image/png");
  if (thumbs.length) {
    const grid = el("div", "thumbs");
    for (const a of thumbs) {
      const img = el("img");
      img.src = `${a.url}?inline=1`;
      img.alt = a.name;
      img.loading = "lazy";
      grid.append(img);
    }
    view.append(grid);
  } else if (job.result) {
    view.append(el("p", "muted", `${job.result.title} — ${job.result.slides} ${t("slides")}`));
  }
  if (job.status === "done") view.append(reviseBox(job, view));
}

// Downloads: the formats people open (report.json is data for the viewer and the API).
const HIDDEN = new Set(["image/png", "application/json"]);

export function showResult(job, card, { compact = false, onMakeDeck = null, onChange = null } = {}) {
  const result = el("div", "job-result");
  const view = compact ? el("details", "preview") : result;
  if (compact) {
    view.append(el("summary", null, t("open")));
    result.append(view);
  }
  if (job.kind === "report") {
    if (compact) {
      view.addEventListener("toggle", () => {
        if (view.open && !view.dataset.loaded) {
          view.dataset.loaded = "1";
          showReport(job, view, onChange);
        }
      });
    } else {
      showReport(job, view, onChange);
    }
  } else {
    showDeck(job, view);
  }
  const downloads = el("div", "downloads");
  for (const a of job.artifacts || []) if (!HIDDEN.has(a.media_type)) downloads.append(artifactLink(a));
  if (job.kind === "report" && onMakeDeck) {
    const make = el("button", "make-deck", t("makeSlides"));
    make.type = "button";
    make.addEventListener("click", () => onMakeDeck(job));
    downloads.append(make);
  }
  result.append(downloads);
  card.append(result);
}
