// What the chat view's modules share: the page's state, the model
// options the composer shows, and the current conversation (made on first use).

import { api } from "./api.js";
import { $ } from "./dom.js";

export const state = {
  conversations: [],
  current: null, // conversation id
  messages: new Map(), // id -> message
  leaf: null,
  streaming: null, // { controller }
  mode: "chat",
  attachments: [], // { id, filename }
  models: [],
  sources: new Map(), // assistant message id -> sources of its turn
  jobs: [], // jobs of this conversation (JobOut), oldest first
  cards: new Map(), // job id -> its card element (kept across re-renders while following)
  pending: [], // cards not yet jobs (clarifying questions), shown at the end
  navigate: () => {},
};

export function options() {
  return { model: $("#model").value || null, think: $("#think").checked };
}

export async function ensureConversation(title = null) {
  if (state.current) return state.current;
  const conv = await api("POST", "/api/conversations", { model: options().model,
    title: title ? title.slice(0, 200) : null });
  state.current = conv.id;
  history.pushState({}, "", `/c/${conv.id}`);
  return conv.id;
}
