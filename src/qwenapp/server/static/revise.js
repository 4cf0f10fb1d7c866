// Revise a finished deck or report by asking, under its thumbnails or its text: a request
// box ("make slide 3 a chart", "expand the section on risks"), the reply (the new version,
// or the server's short question when the request names a slide or section that does not
// exist or maps to no edit; a report's sections are listed as they are written again, from
// the revision's event stream), and a version switcher to download, compare with the current
// one, or go back to any version. The server reads the request and rewrites only the
// slides or sections it touches (POST /api/jobs/{id}/revisions); after each version the
// deck's thumbnails are re-read, or the report's text is shown again (`onVersion`), the
// rewritten parts marked.

import { api, ApiError, postStream } from "./api.js";
import { el } from "./dom.js";

const STRINGS = {
  en: {
    deckPlaceholder: "Ask for a change: “make slide 3 a chart”, “use the dark theme”…",
    reportPlaceholder: "Ask for a change: “expand the section on risks”, “make it shorter”…",
    revise: "Revise", revising: "Revising…", version: "Version", current: "current",
    first: "first version", restore: "Go back to this version", download: "Download",
    compare: "Compare with current", question: "Question",
    deckChanged: "slides changed", deckNone: "no slide rewritten",
    reportChanged: "sections changed", reportNone: "no section rewritten",
    slide: "Slide", section: "Section", was: "was", writing: "Writing", written: "Rewritten",
    sentences: "sentences", cut: "the answer was cut off; the versions list shows what was kept",
    same: "same", changed: "changed", added: "added", removed: "removed",
  },
  zh: {
    deckPlaceholder: "说出要改什么：“把第3张改成图表”、“使用深色主题”……",
    reportPlaceholder: "说出要改什么：“扩展关于风险的部分”、“写得更短”……",
    revise: "修改", revising: "正在修改……", version: "版本", current: "当前",
    first: "初版", restore: "恢复到这个版本", download: "下载",
    compare: "与当前版本比较", question: "需要确认",
    deckChanged: "张幻灯片有改动", deckNone: "没有重写幻灯片",
    reportChanged: "节有改动", reportNone: "没有重写任何一节",
    slide: "幻灯片", section: "节", was: "原为", writing: "正在写", written: "已重写",
    sentences: "句", cut: "回答中断了；版本列表里是已保存的内容",
    same: "未变", changed: "已改", added: "新增", removed: "已删除",
  },
};

function s(key) {
  const lang = (document.documentElement.lang || "en").startsWith("zh") ? "zh" : "en";
  return STRINGS[lang][key];
}

function label(v, current) {
  const what = v.request ? `“${v.request}”` : s("first");
  return `${s("version")} ${v.version}: ${what}${v.version === current ? ` (${s("current")})` : ""}`;
}

// Re-read the thumbnails of the current version; mark the slides `changed` (1-based).
function refreshThumbs(view, job, names, version, changed) {
  const grid = view.querySelector(".thumbs");
  if (!grid || !names.length) return;
  grid.replaceChildren();
  names.forEach((name, i) => {
    const img = el("img", changed.includes(i + 1) ? "changed" : null);
    img.src = `/api/jobs/${job.id}/artifacts/${name}?inline=1&v=${version}`;
    img.alt = name;
    grid.append(img);
  });
}

// The files of version `v` to download: the deck's .pptx, or each format the report job
// made (report.json is data, not a download).
function files(job, v, n) {
  if (job.kind !== "report") return [[`/api/jobs/${job.id}/versions/${n}/deck.pptx`, `deck-v${n}.pptx`, ""]];
  return Object.entries((v && v.files) || {}).filter(([name]) => !name.endsWith(".json"))
    .map(([name, url]) => [url, name.replace(".", `-v${n}.`), name.split(".").pop().toUpperCase()]);
}

function compareList(diff) {
  const list = el("ul", "compare");
  const rows = diff.sections || diff.slides || [];
  const what = diff.sections ? s("section") : s("slide");
  for (const d of rows) {
    const n = d.status === "removed" ? d.was : (d.section || d.slide);
    const moved = d.was && d.status !== "removed" && d.was !== n ? ` (${s("was")} ${d.was})` : "";
    const li = el("li", `diff-${d.status}`,
      `${what} ${n}${moved}: ${d.heading || d.title} — ${s(d.status)}`);
    li.dataset.status = d.status;
    list.append(li);
  }
  return list;
}

export function reviseBox(job, view, onChange, { onVersion = null } = {}) {
  const report = job.kind === "report";
  const box = el("div", "revise");
  const form = el("form", "revise-form");
  const input = el("input");
  input.name = "revision";
  input.placeholder = s(report ? "reportPlaceholder" : "deckPlaceholder");
  input.maxLength = 2000;
  const send = el("button", "action", s("revise"));
  send.type = "submit";
  form.append(input, send);
  const reply = el("p", "revise-reply muted");
  const log = el("ol", "revise-log muted");
  const switcher = el("div", "versions");
  const select = el("select");
  select.name = "version";
  const links = el("span", "version-files");
  const compare = el("button", "action compare", s("compare"));
  compare.type = "button";
  const back = el("button", "action restore", s("restore"));
  back.type = "button";
  switcher.append(select, links, compare, back);
  const diffBox = el("div", "version-diff");
  box.append(form, reply, log, switcher, diffBox);

  let current = 1;
  let byNumber = new Map();
  const show = () => {
    const n = Number(select.value || current);
    links.replaceChildren(...files(job, byNumber.get(n), n).map(([url, name, fmt]) => {
      const a = el("a", "button", fmt ? `${s("download")} ${fmt}` : s("download"));
      a.href = url;
      a.setAttribute("download", name);
      return a;
    }));
    back.hidden = n === current;
    compare.hidden = n === current;
    diffBox.replaceChildren();
  };
  const load = async () => {
    const list = await api("GET", `/api/jobs/${job.id}/versions`);
    current = list.current;
    byNumber = new Map(list.versions.map((v) => [v.version, v]));
    select.replaceChildren(...list.versions.map((v) => {
      const o = el("option", null, label(v, current));
      o.value = String(v.version);
      return o;
    }));
    select.value = String(current);
    show();
  };
  const done = async (out) => {
    const v = out.version;
    const kind = report ? "report" : "deck";
    const changed = v.changed.length ? `${s(`${kind}Changed`)}: ${v.changed.join(", ")}` : s(`${kind}None`);
    reply.className = "revise-reply";
    reply.textContent = `${s("version")} ${v.version}: ${v.summary} (${changed})` +
      (out.notes && out.notes.length ? ` — ${out.notes.join("; ")}` : "");
    if (report) {
      if (onVersion) await onVersion(v.version, v.changed);
    } else {
      refreshThumbs(view, job, out.thumbnails || [], v.version, v.changed);
    }
    return load();
  };
  // a deck: how the request is read (no model call), a question at once or the slides
  // being rewritten marked, then the revision (or the preview's question)
  const planned = async (request) => {
    const plan = await api("POST", `/api/jobs/${job.id}/revisions/preview`, { request });
    if (plan.outcome === "question") return plan;
    reply.textContent = `${plan.steps.join("; ")}…`;
    view.querySelectorAll(".thumbs img").forEach((img, i) => {
      img.classList.toggle("rewriting", plan.slides.includes(i + 1));
    });
    return api("POST", `/api/jobs/${job.id}/revisions`, { request });
  };
  // a report: the revision as it happens (revision_plan, section_started/_written, then
  // revised, question or error)
  const streamed = async (request) => {
    let out = null;
    await postStream(`/api/jobs/${job.id}/revisions`, { request }, (name, d) => {
      if (name === "revision_plan") {
        reply.textContent = `${d.steps.join("; ")}…`;
      } else if (name === "section_started") {
        log.append(el("li", "muted", `${s("writing")}: ${d.heading}…`));
      } else if (name === "section_written") {
        const li = log.lastElementChild || log.appendChild(el("li"));
        li.className = "";
        li.textContent = `${s("written")}: ${d.heading} (${d.sentences} ${s("sentences")})`;
      } else if (name === "revised" || name === "question") {
        out = d;
      } else if (name === "error") {
        throw new ApiError(500, d);
      }
      if (onChange) onChange();
    });
    if (!out) throw new Error(s("cut"));
    return out;
  };
  select.addEventListener("change", show);
  compare.addEventListener("click", async () => {
    compare.disabled = true;
    try {
      const diff = await api("GET", `/api/jobs/${job.id}/versions/${select.value}/compare/${current}`);
      diffBox.replaceChildren(compareList(diff));
      if (onChange) onChange();
    } catch (e) {
      diffBox.replaceChildren(el("p", "error", e.message));
    } finally {
      compare.disabled = false;
    }
  });
  back.addEventListener("click", async () => {
    back.disabled = true;
    try {
      await done(await api("POST", `/api/jobs/${job.id}/versions/${select.value}/restore`));
    } catch (e) {
      reply.className = "revise-reply error";
      reply.textContent = e.message;
    } finally {
      back.disabled = false;
    }
  });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const request = input.value.trim();
    if (!request) return;
    send.disabled = true;
    reply.className = "revise-reply muted";
    reply.textContent = s("revising");
    log.replaceChildren();
    try {
      const out = report ? await streamed(request) : await planned(request);
      if (out.outcome === "question") {
        reply.className = "revise-reply question";
        reply.textContent = `${s("question")}: ${out.question}`;
      } else {
        input.value = "";
        await done(out);
      }
    } catch (e) {
      reply.className = "revise-reply error";
      reply.textContent = e.message + (e.hint ? ` (${e.hint})` : "");
    } finally {
      view.querySelectorAll(".thumbs img.rewriting").forEach((img) => img.classList.remove("rewriting"));
      send.disabled = false;
      if (onChange) onChange();
    }
  });
  load().catch(() => { switcher.hidden = true; });
  return box;
}
