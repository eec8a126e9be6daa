// The message fixed to the bottom of the viewport: every answer and error is said
// there, in a polite live region (screen readers announce it), wherever the student
// scrolled to. It goes after a while, or on Escape.

import { $ } from "./dom.js";

// How long a message stays in view: long enough to read a refusal twice. Its row
// keeps the answer after the message goes (see `note` in sections.js).
const MESSAGE_MS = { ok: 6000, info: 6000, refusal: 15000, error: 15000 };
let messageTimer = null;

export function say(text, kind = "info") {
  const box = $("message");
  box.className = `message ${kind}`;
  // Re-set the text so screen readers announce a repeated message too.
  box.textContent = "";
  requestAnimationFrame(() => { box.textContent = text; });
  box.dataset.kind = kind;
  clearTimeout(messageTimer);
  messageTimer = setTimeout(() => { box.textContent = ""; }, MESSAGE_MS[kind] || 6000);
}

export function wireMessage() {
  document.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") { clearTimeout(messageTimer); $("message").textContent = ""; }
  });
}
