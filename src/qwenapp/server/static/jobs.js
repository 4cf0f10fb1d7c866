// Reports and decks as job cards: live progress from the job's SSE stream, then the
// result inline (the report in a sandboxed frame, the deck as thumbnails) and downloads.

import { api } from "./api.js";
import { t } from "./i18n.js";

const TERMINAL = new Set(["done", "failed", "cancelled"]);

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

export async function startJob(body, container, onChange) {
  const card = el("article", "job card");
  container.append(card);
  try {
    const job = await api("POST", "/api/jobs", body);
    follow(job, card, onChange);
  } catch (e) {
    card.append(el("div", "error-banner", e.message + (e.hint ? ` (${e.hint})` : "")));
  }
  if (onChange) onChange();
  return card;
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
  return { status, cancel };
}

// Follow a job's progress and show its result. `job` is the API's JobOut.
export function follow(job, card, onChange, { compact = false } = {}) {
  card.dataset.job = job.id;
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
    showResult(job, card, compact);
    return;
  }
  const line = (text, cls) => { const li = el("li", cls, text); log.append(li); if (onChange) onChange(); return li; };
  const source = new EventSource(`/api/jobs/${job.id}/events`);
  const handlers = {
    running: () => { status.textContent = t("running"); status.className = "status running"; },
    resuming: (d) => line(d.reason, "muted"),
    plan: (d) => {
      const li = line(`${t("plan")}: ${d.title}`);
      const ul = el("ul");
      for (const s of d.sections) ul.append(el("li", null, s.heading));
      li.append(ul);
      bar.max = d.sections.length + 1;
    },
    outline: (d) => {
      const li = line(`${t("plan")}: ${d.title}`);
      const ul = el("ul");
      for (const s of d.slides) ul.append(el("li", null, s.heading));
      li.append(ul);
      bar.max = d.slides.length + 1;
    },
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
      showResult(fresh, card);
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
}

function artifactLink(a) {
  const link = el("a", "button", `${t("download")} ${a.name.split(".").pop().toUpperCase()}`);
  link.href = a.url;
  link.setAttribute("download", a.name);
  link.dataset.artifact = a.name;
  return link;
}

export function showResult(job, card, compact = false) {
  const result = el("div", "job-result");
  const view = compact ? el("details", "preview") : result;
  if (compact) {
    view.append(el("summary", null, t("open")));
    result.append(view);
  }
  const arts = job.artifacts || [];
  if (job.kind === "report") {
    const html = arts.find((a) => a.name === "report.html");
    if (html) {
      const frame = el("iframe", "report-frame");
      frame.setAttribute("sandbox", "");
      frame.setAttribute("referrerpolicy", "no-referrer");
      frame.title = job.title;
      frame.src = `${html.url}?inline=1`;
      view.append(frame);
    }
  } else {
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
  }
  const downloads = el("div", "downloads");
  for (const a of arts) if (a.media_type !== "image/png") downloads.append(artifactLink(a));
  result.append(downloads);
  card.append(result);
}
