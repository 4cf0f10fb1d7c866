// The library page: your documents (upload, delete) and your reports and decks.

import { api, uploadDocument } from "./api.js";
import { t } from "./i18n.js";
import { follow } from "./jobs.js";
import { $, el } from "./dom.js";

function size(n) {
  if (n >= 1048576) return `${(n / 1048576).toFixed(1)} MB`;
  return `${Math.max(1, Math.round(n / 1024))} KB`;
}

export async function loadLibrary() {
  const [docs, jobs] = await Promise.all([api("GET", "/api/documents"), api("GET", "/api/jobs")]);
  const body = $("#documents-table tbody");
  body.replaceChildren();
  for (const d of docs.documents) {
    const tr = el("tr");
    tr.dataset.id = d.id;
    tr.append(el("td", "name", d.filename), el("td", "muted", d.kind), el("td", "muted", size(d.size)),
      el("td", "muted", new Date(d.added_at).toLocaleString()));
    const td = el("td");
    const del = el("button", "action", t("delete"));
    del.type = "button";
    del.addEventListener("click", async () => {
      if (!confirm(t("confirmDeleteDoc"))) return;
      await api("DELETE", `/api/documents/${d.id}`);
      loadLibrary();
    });
    td.append(del);
    tr.append(td);
    body.append(tr);
  }
  $("#no-documents").hidden = docs.documents.length > 0;
  const list = $("#jobs-list");
  list.querySelectorAll(".job").forEach((c) => c._stop && c._stop());
  list.replaceChildren();
  for (const job of jobs.jobs) {
    const card = el("article", "job card");
    list.append(card);
    card._stop = follow(job, card, { compact: true });
    const del = el("button", "action", t("delete"));
    del.type = "button";
    del.addEventListener("click", async () => {
      await api("DELETE", `/api/jobs/${job.id}`);
      loadLibrary();
    });
    card.querySelector(".job-head").append(del);
  }
  $("#no-jobs").hidden = jobs.jobs.length > 0;
}

async function upload(files) {
  const status = $("#library-status");
  for (const f of files) {
    status.textContent = `${f.name} — ${t("uploading")}`;
    try {
      const doc = await uploadDocument(f, (done, total) => {
        status.textContent = `${f.name} — ${t("ocrPages", { done, total })}`;
      });
      // pages left unread (OCR switched off) are said, not silently dropped
      status.textContent = doc.notes?.length ? `${f.name}: ${doc.notes.join("; ")}` : "";
    } catch (e) {
      status.textContent = `${f.name}: ${e.message}`;
    }
  }
  loadLibrary();
}

export function initLibrary() {
  $("#library-upload").addEventListener("click", () => $("#library-file").click());
  $("#library-file").addEventListener("change", (ev) => {
    upload([...ev.target.files]);
    ev.target.value = "";
  });
}
