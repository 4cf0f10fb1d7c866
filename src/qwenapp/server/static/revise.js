// Revise a finished deck by asking, under its thumbnails: a request box ("make slide 3 a
// chart"), the reply (the new version, or the server's short question when the request
// names a slide that does not exist or maps to no edit), and a version switcher to open,
// download or go back to any version. The server reads the request and rewrites only
// the slides it touches (POST /api/jobs/{id}/revisions); the thumbnails are re-read
// after each version, the rewritten ones marked.

import { api } from "./api.js";
import { el } from "./dom.js";

const STRINGS = {
  en: {
    placeholder: "Ask for a change: “make slide 3 a chart”, “use the dark theme”…",
    revise: "Revise", revising: "Revising…", version: "Version", current: "current",
    first: "first version", restore: "Go back to this version", download: "Download",
    changed: "slides changed", none: "no slide rewritten", question: "Question",
  },
  zh: {
    placeholder: "说出要改什么：“把第3张改成图表”、“使用深色主题”……",
    revise: "修改", revising: "正在修改……", version: "版本", current: "当前",
    first: "初版", restore: "恢复到这个版本", download: "下载",
    changed: "张幻灯片有改动", none: "没有重写幻灯片", question: "需要确认",
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

export function reviseBox(job, view, onChange) {
  const box = el("div", "revise");
  const form = el("form", "revise-form");
  const input = el("input");
  input.name = "revision";
  input.placeholder = s("placeholder");
  input.maxLength = 2000;
  const send = el("button", "action", s("revise"));
  send.type = "submit";
  form.append(input, send);
  const reply = el("p", "revise-reply muted");
  const switcher = el("div", "versions");
  const select = el("select");
  select.name = "version";
  const link = el("a", "button", s("download"));
  const back = el("button", "action restore", s("restore"));
  back.type = "button";
  switcher.append(select, link, back);
  box.append(form, reply, switcher);

  let current = 1;
  const show = () => {
    const n = Number(select.value || current);
    link.href = `/api/jobs/${job.id}/versions/${n}/deck.pptx`;
    link.setAttribute("download", `deck-v${n}.pptx`);
    back.hidden = n === current;
  };
  const load = async () => {
    const list = await api("GET", `/api/jobs/${job.id}/versions`);
    current = list.current;
    select.replaceChildren(...list.versions.map((v) => {
      const o = el("option", null, label(v, current));
      o.value = String(v.version);
      return o;
    }));
    select.value = String(current);
    show();
  };
  const done = (out) => {
    const v = out.version;
    const changed = v.changed.length ? `${s("changed")}: ${v.changed.join(", ")}` : s("none");
    reply.className = "revise-reply";
    reply.textContent = `${s("version")} ${v.version}: ${v.summary} (${changed})` +
      (out.notes && out.notes.length ? ` — ${out.notes.join("; ")}` : "");
    refreshThumbs(view, job, out.thumbnails || [], v.version, v.changed);
    return load();
  };
  select.addEventListener("change", show);
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
    try {
      // how the request is read (no model call): a question at once, or what is being done
      const plan = await api("POST", `/api/jobs/${job.id}/revisions/preview`, { request });
      if (plan.outcome === "question") {
        reply.className = "revise-reply question";
        reply.textContent = `${s("question")}: ${plan.question}`;
        return;
      }
      reply.textContent = `${plan.steps.join("; ")}…`;
      view.querySelectorAll(".thumbs img").forEach((img, i) => {
        img.classList.toggle("rewriting", plan.slides.includes(i + 1));
      });
      const out = await api("POST", `/api/jobs/${job.id}/revisions`, { request });
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
