// A chat answer's tool calls, shown as collapsible steps above its text: the call (name
// and arguments) in the summary, what it returned inside. A call with side effects that
// is waiting for the user shows Allow / Don't allow; the answer goes to the server and
// the turn goes on. The same steps come back with the conversation after a reload.

import { api } from "./api.js";
import { t } from "./i18n.js";
import { el } from "./dom.js";

function argsText(args) {
  if (!args || typeof args !== "object") return "";
  const parts = Object.entries(args).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  const text = parts.join(", ");
  return `(${text.length > 160 ? `${text.slice(0, 157)}…` : text})`;
}

function statusText(s) {
  if (s.status === "writing") return t("toolWriting");
  if (s.status === "asked") return s.token ? t("toolWaiting") : t("toolNotAnswered");
  if (s.status === "running") return t("toolRunning");
  if (s.error) return t("toolFailed");
  return s.seconds != null ? `${s.seconds.toFixed(s.seconds < 10 ? 2 : 0)} s` : "";
}

// Merge one SSE tool event into `steps` (the same shapes the server saves).
export function applyToolEvent(steps, name, data) {
  const open = (id) => steps.find((s) => s.id === id && s.status !== "done");
  if (name === "tool_notice") { steps.push({ notice: data.text }); return; }
  if (name === "tool_delta") {
    if (!steps.some((s) => s.index === data.index && s.status === "writing")) {
      if (data.name) steps.push({ index: data.index, id: data.id, name: data.name, status: "writing" });
    }
    return;
  }
  let step = open(data.id) || steps.find((s) => s.status === "writing" && s.name === data.name);
  if (!step) { step = { id: data.id, name: data.name }; steps.push(step); }
  step.id = data.id;
  if (name === "tool_confirm") Object.assign(step, { arguments: data.arguments, status: "asked", token: data.token });
  else if (name === "tool_call") Object.assign(step, { arguments: data.arguments, status: "running", token: undefined });
  else if (name === "tool_result") {
    Object.assign(step, { content: data.content, error: data.error, seconds: data.seconds,
      job: data.job, status: "done", token: undefined });
  }
}

function confirmBox(step, rerender) {
  const box = el("div", "tool-confirm");
  box.append(el("span", null, t("toolAsk", { name: step.name })));
  for (const allow of [true, false]) {
    const b = el("button", allow ? "primary" : "", allow ? t("toolAllow") : t("toolDeny"));
    b.type = "button";
    b.addEventListener("click", async () => {
      const token = step.token;
      step.token = null;
      step.answered = allow ? "allowed" : "refused";
      rerender();
      try {
        await api("POST", `/api/tools/approvals/${encodeURIComponent(token)}`, { allow });
      } catch (e) {
        step.error = true;
        step.content = e.message;
        rerender();
      }
    });
    box.append(b);
  }
  return box;
}

// Render `steps` into `box` (replacing what is there, keeping open steps open).
export function renderSteps(box, steps) {
  const opened = new Set([...box.querySelectorAll("details.tool-step[open]")].map((d) => d.dataset.id));
  const rerender = () => renderSteps(box, steps);
  box.replaceChildren();
  for (const s of steps) {
    if (s.notice) { box.append(el("p", "tool-notice", s.notice)); continue; }
    const d = el("details", `tool-step ${s.status || "done"}${s.error ? " failed" : ""}`);
    d.dataset.id = s.id || "";
    d.dataset.tool = s.name || "";
    if (opened.has(d.dataset.id)) d.open = true;
    const sum = el("summary");
    sum.append(el("span", "tool-icon", s.error ? "✗" : "⚙"), el("code", "tool-name", s.name || "?"),
      el("span", "tool-args", argsText(s.arguments)), el("span", "tool-status", statusText(s)));
    d.append(sum);
    if (s.content != null) d.append(el("pre", "tool-result", s.content));
    else d.append(el("p", "muted", t("toolNoResult")));
    box.append(d);
    if (s.job) {
      const kind = s.job.kind === "report" ? t("report") : t("deck");
      box.append(el("p", "tool-job", `${t("toolStartedJob", { kind })}: ${s.job.title}`));
    }
    if (s.status === "asked" && s.token) box.append(confirmBox(s, rerender));
    else if (s.status === "asked" && s.answered) box.append(el("p", "tool-notice", t(s.answered === "allowed" ? "toolAllowed" : "toolRefused")));
  }
  box.hidden = !steps.length;
}
