// The sidebar: the conversation list (optionally filtered by the search box), with
// rename and delete.

import { api } from "./api.js";
import { t } from "./i18n.js";
import { $, el } from "./dom.js";
import { state } from "./chatstate.js";

export async function loadConversations() {
  const q = $("#search").value.trim();
  const path = q ? `/api/conversations?q=${encodeURIComponent(q)}` : "/api/conversations";
  const data = await api("GET", path);
  state.conversations = data.conversations;
  renderList();
}

export function renderList() {
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

// Search as the user types (debounced).
export function initSearch() {
  let timer = 0;
  $("#search").addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(loadConversations, 200);
  });
}
