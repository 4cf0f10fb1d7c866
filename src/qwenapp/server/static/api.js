// The native API from the page: JSON calls with the CSRF token, and SSE over fetch.

let csrf = null;
let onUnauthorized = () => {};

export function setCsrf(token) { csrf = token; }
export function whenUnauthorized(fn) { onUnauthorized = fn; }

export class ApiError extends Error {
  constructor(status, body) {
    const err = (body && body.error) || {};
    super(err.message || `HTTP ${status}`);
    this.status = status;
    this.code = err.code;
    this.hint = err.hint || "";
  }
}

function headers(method, extra = {}) {
  const h = { ...extra };
  if (method !== "GET" && method !== "HEAD" && csrf) h["X-CSRF-Token"] = csrf;
  return h;
}

export async function api(method, path, body, { raw = false, signal = undefined } = {}) {
  const init = { method, credentials: "same-origin", headers: headers(method), signal };
  if (body instanceof FormData) {
    init.body = body;
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  const r = await fetch(path, init);
  if (raw) return r;
  if (r.status === 204) return null;
  const data = await r.json().catch(() => null);
  if (!r.ok) {
    if (r.status === 401) onUnauthorized();
    throw new ApiError(r.status, data);
  }
  return data;
}

// Upload one file to the library. A scan is read by OCR, a second or more a page: while
// the upload is read, onPages(done, total) reports the pages recognised so far.
export async function uploadDocument(file, onPages = () => {}) {
  const token = crypto.randomUUID().replaceAll("-", "");
  const form = new FormData();
  form.append("file", file, file.name);
  let reading = true;
  const poll = (async () => {
    while (reading) {
      await new Promise((r) => setTimeout(r, 1000));
      if (!reading) break;
      try {
        const p = await api("GET", `/api/documents/reading/${token}`);
        if (reading && p.total) onPages(p.done, p.total);
      } catch (e) { /* not started yet, or already done */ }
    }
  })();
  try {
    return await api("POST", `/api/documents?progress=${token}`, form);
  } finally {
    reading = false;
    await poll;
  }
}

// POST and read the answer as Server-Sent Events: onEvent(name, data) for each.
export async function postStream(path, body, onEvent, signal) {
  const r = await fetch(path, {
    method: "POST", credentials: "same-origin", signal,
    headers: headers("POST", { "Content-Type": "application/json", Accept: "text/event-stream" }),
    body: JSON.stringify(body),
  });
  if (!r.ok) {
    const data = await r.json().catch(() => null);
    if (r.status === 401) onUnauthorized();
    throw new ApiError(r.status, data);
  }
  await readEvents(r.body, onEvent);
}

export async function readEvents(stream, onEvent) {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    let cut;
    while ((cut = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      let name = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (!data.length) continue;
      let parsed = data.join("\n");
      try { parsed = JSON.parse(parsed); } catch (e) { /* plain text */ }
      onEvent(name, parsed);
    }
  }
}
