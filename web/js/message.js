// The message: every answer and error is said here, in one polite live region (screen
// readers announce it). It floats at the bottom of the viewport, wherever the student
// scrolled to, with a button to dismiss it. Good news goes by itself; a refusal or an
// error stays until dismissed (the button, or Escape) or until the student clicks on
// to something else, so an old error never stands beside a later answer.
//
// An answer also shows next to what caused it when that has a place: a section's row
// (`note` in sections.js) or the form it came from (`sayNear`). On a phone a floating
// box would sit over the search box, a form or the keyboard, so there such an answer
// is announced but not floated (style.css, `.near`).

import { $ } from "./dom.js";

// How long good news stays: long enough to read it twice.
const GOOD_NEWS_MS = 6000;
// The kinds that stay until dismissed or clicked past.
const STAYS = new Set(["refusal", "error"]);
let messageTimer = null;

export function say(text, kind = "info", { near = false } = {}) {
  const box = $("message-box");
  const message = $("message");
  box.className = `message-box ${kind}${near ? " near" : ""}`;
  // Re-set the text so screen readers announce a repeated message too.
  message.textContent = "";
  requestAnimationFrame(() => { message.textContent = text; });
  message.dataset.kind = kind;
  $("message-dismiss").hidden = false;
  clearTimeout(messageTimer);
  if (!STAYS.has(kind)) messageTimer = setTimeout(dismiss, GOOD_NEWS_MS);
}

// Says `text` in the message and in the note of `form`, right under what was filled in.
export function sayNear(form, text, kind) {
  let note = form.querySelector(":scope > .form-note");
  if (!note) {
    note = document.createElement("p");
    note.className = "form-note full-row";
    form.append(note);
  }
  note.textContent = text;
  note.dataset.kind = kind;
  say(text, kind, { near: true });
}

export function dismiss() {
  clearTimeout(messageTimer);
  $("message").textContent = "";
  $("message-dismiss").hidden = true;
  for (const note of document.querySelectorAll(".form-note")) note.textContent = "";
}

export function wireMessage() {
  document.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") dismiss();
  });
  $("message-dismiss").addEventListener("click", dismiss);
  // Before the click's own handler runs (capture): a refusal or error said earlier
  // goes, and whatever the click does says its own answer.
  document.addEventListener("click", (ev) => {
    const shown = $("message").textContent !== "";
    const target = ev.target instanceof Element ? ev.target.closest("button, a") : null;
    if (shown && target && !target.closest("#message-box") && STAYS.has($("message").dataset.kind)) dismiss();
  }, true);
}
