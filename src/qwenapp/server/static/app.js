// Boot: who am I (or the login form), then the router between chat, library and settings.

import { api, setCsrf, whenUnauthorized, ApiError } from "./api.js";
import { language, setLanguage, t, translate } from "./i18n.js";
import { initChat, loadConversations, openConversation } from "./chat.js";
import { initLibrary, loadLibrary } from "./library.js";
import { initSettings, loadSettings, applyTheme } from "./settings.js";
import { $ } from "./dom.js";

let me = null;

function show(view) {
  for (const v of ["chat", "library", "settings"]) {
    $(`#${v}-view`).hidden = v !== view;
  }
  document.querySelectorAll("[data-nav]").forEach((a) => {
    a.classList.toggle("active", a.dataset.nav === view);
  });
  document.body.classList.remove("menu-open");
}

async function route() {
  const path = location.pathname;
  if (path === "/library") {
    show("library");
    await loadLibrary();
  } else if (path === "/settings") {
    show("settings");
    await loadSettings(me);
  } else {
    show("chat");
    const m = path.match(/^\/c\/([0-9A-Za-z]+)$/);
    await openConversation(m ? m[1] : null);
  }
}

export function navigate(path) {
  if (path !== location.pathname) history.pushState({}, "", path);
  route();
}

function showLogin() {
  $("#app").hidden = true;
  $("#login-view").hidden = false;
  translate();
}

async function login(ev) {
  ev.preventDefault();
  const form = ev.target;
  $("#login-error").textContent = "";
  try {
    await api("POST", "/api/auth/login", { username: form.username.value,
      password: form.password.value });
    form.password.value = "";
    await boot();
  } catch (e) {
    $("#login-error").textContent = e.message;
  }
}

async function boot() {
  try {
    me = await api("GET", "/api/me");
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) { showLogin(); return; }
    document.body.textContent = `qwenapp: ${e.message}`;
    return;
  }
  setCsrf(me.csrf_token);
  $("#login-view").hidden = true;
  $("#app").hidden = false;
  const prefs = JSON.parse(localStorage.getItem("qwenapp.prefs") || "{}");
  initChat({ models: me.models, themes: me.deck_themes, navigate, web: me.web,
    defaults: { model: prefs.model, think: prefs.think, ask: prefs.ask } });
  initLibrary({ navigate });
  initSettings({ navigate, models: me.models, onLanguage: () => { translate(); route(); } });
  translate();
  await loadConversations();
  await route();
}

setLanguage(language());
applyTheme();
whenUnauthorized(() => { if (me) { me = null; showLogin(); } });
window.addEventListener("popstate", route);
document.addEventListener("DOMContentLoaded", () => {
  $("#login-form").addEventListener("submit", login);
  document.querySelectorAll("[data-nav]").forEach((a) => {
    a.addEventListener("click", (ev) => { ev.preventDefault(); navigate(a.getAttribute("href")); });
  });
  $("#lang-toggle").addEventListener("click", () => {
    setLanguage(language() === "zh" ? "en" : "zh");
    translate();
    route();
  });
  $("#menu").addEventListener("click", () => document.body.classList.toggle("menu-open"));
  boot();
});

export { t };
