// The settings page: language, appearance, default model and thinking (kept in this
// browser), and, on a server with accounts, password and API keys.

import { api } from "./api.js";
import { language, setLanguage, t } from "./i18n.js";
import { $, el } from "./dom.js";

function prefs() { return JSON.parse(localStorage.getItem("qwenapp.prefs") || "{}"); }
function savePrefs(p) { localStorage.setItem("qwenapp.prefs", JSON.stringify(p)); }

export function applyTheme() {
  const choice = prefs().theme || "system";
  const dark = choice === "dark" ||
    (choice === "system" && window.matchMedia("(prefers-color-scheme: dark)").matches);
  document.documentElement.dataset.theme = dark ? "dark" : "light";
  const light = document.getElementById("hljs-light");
  const darkSheet = document.getElementById("hljs-dark");
  if (light && darkSheet) { light.disabled = dark; darkSheet.disabled = !dark; }
}

async function loadKeys() {
  const body = $("#keys-table tbody");
  body.replaceChildren();
  for (const k of await api("GET", "/api/keys")) {
    const tr = el("tr");
    tr.append(el("td", null, k.name), el("td", "muted", `${k.prefix}…`),
      el("td", "muted", k.last_used_at || "—"));
    const td = el("td");
    const revoke = el("button", "action", t("revoke"));
    revoke.type = "button";
    revoke.addEventListener("click", async () => {
      await api("DELETE", `/api/keys/${k.id}`);
      loadKeys();
    });
    td.append(revoke);
    tr.append(td);
    body.append(tr);
  }
}

export async function loadSettings(me) {
  $("#set-lang").value = language();
  $("#set-theme").value = prefs().theme || "system";
  $("#set-think").checked = !!prefs().think;
  const accounts = me && me.user.id !== "local";
  $("#account-local").hidden = accounts;
  $("#account-box").hidden = !accounts;
  if (accounts) {
    $("#account-name").textContent = me.user.username;
    await loadKeys();
  }
}

export function initSettings({ navigate, models, onLanguage }) {
  const pick = $("#set-model");
  pick.replaceChildren(...models.map((m) => {
    const o = el("option", null, m.name);
    o.value = m.name;
    return o;
  }));
  if (prefs().model) pick.value = prefs().model;
  $("#set-lang").addEventListener("change", (ev) => { setLanguage(ev.target.value); onLanguage(); });
  $("#set-theme").addEventListener("change", (ev) => {
    savePrefs({ ...prefs(), theme: ev.target.value });
    applyTheme();
  });
  pick.addEventListener("change", (ev) => savePrefs({ ...prefs(), model: ev.target.value }));
  $("#set-think").addEventListener("change", (ev) => savePrefs({ ...prefs(), think: ev.target.checked }));
  $("#logout").addEventListener("click", async () => {
    await api("POST", "/api/auth/logout");
    location.assign("/");
  });
  $("#password-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = ev.target;
    try {
      await api("POST", "/api/me/password", { current_password: form.current.value,
        new_password: form.new.value });
      $("#password-status").textContent = t("passwordChanged");
      setTimeout(() => location.assign("/"), 1200);
    } catch (e) {
      $("#password-status").textContent = e.message;
    }
  });
  $("#key-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const input = ev.target.elements.keyname;
    const key = await api("POST", "/api/keys", { name: input.value || "key" });
    input.value = "";
    const box = $("#new-key");
    box.hidden = false;
    box.textContent = `${t("keyShown")} ${key.secret}`;
    loadKeys();
  });
  void navigate;
}
