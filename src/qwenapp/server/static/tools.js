// Which tools a chat turn may call. The server offers them (its config file decides),
// plus the user's own MCP servers ("My MCP servers" on the settings page, kept on the
// server); each user picks among them: the Tools switch in the top bar turns all off
// for a turn, and the settings page turns single tools off (kept in this browser).

import { api } from "./api.js";
import { t } from "./i18n.js";
import { $, el } from "./dom.js";

let catalogue = { tools: [], problems: [] };

function prefs() { return JSON.parse(localStorage.getItem("qwenapp.prefs") || "{}"); }
function savePrefs(p) { localStorage.setItem("qwenapp.prefs", JSON.stringify(p)); }

// The `tools` field of a turn: omitted (all offered), a list, or [] (none).
export function turnTools() {
  if (!catalogue.tools.length) return undefined;
  if (!$("#use-tools").checked) return [];
  const off = new Set(prefs().toolsOff || []);
  const on = catalogue.tools.map((x) => x.name).filter((n) => !off.has(n));
  return on.length === catalogue.tools.length ? undefined : on;
}

function renderSettings() {
  const box = $("#tools-list");
  box.replaceChildren();
  const off = new Set(prefs().toolsOff || []);
  for (const tool of catalogue.tools) {
    const label = el("label", "switch tool-choice");
    const input = el("input");
    input.type = "checkbox";
    input.checked = !off.has(tool.name);
    input.dataset.tool = tool.name;
    input.addEventListener("change", () => {
      const now = new Set(prefs().toolsOff || []);
      if (input.checked) now.delete(tool.name); else now.add(tool.name);
      savePrefs({ ...prefs(), toolsOff: [...now] });
    });
    const text = el("span", null, tool.name);
    const note = el("small", "muted", ` — ${tool.description}` +
      (tool.side_effects ? ` (${t("toolAsksFirst")})` : ""));
    label.append(input, text, note);
    box.append(label);
  }
  $("#tools-problems").textContent = catalogue.problems.join("; ");
  $("#tools-settings").hidden = !catalogue.tools.length && !catalogue.problems.length;
}

async function loadCatalogue() {
  try {
    catalogue = await api("GET", "/api/tools");
  } catch (e) {
    catalogue = { tools: [], problems: [] };
  }
  $("#tools-option").hidden = !catalogue.tools.length;
  renderSettings();
}

// "My MCP servers": the user's own, listed by name and URL (header values never come back).
async function loadMyServers() {
  const body = $("#mcp-table tbody");
  let mine;
  try {
    mine = await api("GET", "/api/tools/mcp");
  } catch (e) {
    $("#mcp-settings").hidden = true;
    return;
  }
  $("#mcp-settings").hidden = false;
  body.replaceChildren();
  for (const s of mine.servers) {
    const tr = el("tr");
    tr.dataset.server = s.name;
    tr.append(el("td", null, s.name), el("td", "muted", s.url || [s.command, ...s.args].join(" ")));
    const td = el("td");
    const remove = el("button", "action", t("mcpRemove"));
    remove.type = "button";
    remove.addEventListener("click", async () => {
      await api("DELETE", `/api/tools/mcp/${encodeURIComponent(s.name)}`);
      $("#mcp-status").textContent = "";
      await Promise.all([loadMyServers(), loadCatalogue()]);
    });
    td.append(remove);
    tr.append(td);
    body.append(tr);
  }
}

function initMyServers() {
  $("#mcp-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = ev.target;
    const status = $("#mcp-status");
    status.textContent = "";
    try {
      await api("POST", "/api/tools/mcp", { name: form.elements.name.value.trim(),
        url: form.elements.url.value.trim() });
      form.reset();
      status.textContent = t("mcpAdded");
    } catch (e) {
      status.textContent = e.hint ? `${e.message} (${e.hint})` : e.message;
      return;
    }
    await Promise.all([loadMyServers(), loadCatalogue()]);
  });
  return loadMyServers();
}

export async function initTools() {
  const use = $("#use-tools");
  use.checked = prefs().useTools !== false;
  use.addEventListener("change", () => savePrefs({ ...prefs(), useTools: use.checked }));
  await Promise.all([loadCatalogue(), initMyServers()]);
}
