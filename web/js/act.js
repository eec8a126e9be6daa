// Doing what a button or form asks: one command sent in the session, its outcome said
// as a sentence (in the message, and on the section's row or under the form it came
// from), then everything read again.
// And what the page does with an error: says it, and signs out when the token is no
// longer good (401).

import { HttpError, sendCommands } from "./api.js";
import { say, sayNear } from "./message.js";
import { refresh } from "./reads.js";
import { note, revealNote } from "./sections.js";
import { signOut } from "./signin.js";
import { state } from "./state.js";
import { SUCCESS, describe } from "./words.js";

// Runs one command from a button or form, and reports its outcome in words.
export async function act(command, button) {
  if (button) button.disabled = true;
  document.body.setAttribute("aria-busy", "true");
  const section = command.section || command.to;
  // Asked before sending: the refresh after the answer rebuilds the rows.
  const fromList = Boolean(button && button.closest("#sections-body"));
  const form = button ? button.closest("form") : null;
  state.notes.delete(section);
  try {
    const [result] = await sendCommands([stripHints(command)]);
    const kind = SUCCESS.has(result.outcome.type) ? "ok" : "refusal";
    const text = describe(command, result.outcome, state.byId.get(section));
    if (form) sayNear(form, text, kind);
    else say(text, kind, { near: fromList });
    note(section, text, kind);
    await refresh();
    if (fromList) revealNote(section);
    return result.outcome;
  } catch (e) {
    handleError(e, form);
    if (e instanceof HttpError) note(section, e.message, "error");
  } finally {
    if (button) button.disabled = false;
    document.body.removeAttribute("aria-busy");
  }
}

// The command as the wire takes it: `leaving` only tells `describe` which sentence fits.
function stripHints(command) {
  const { leaving, ...wire } = command;
  return wire;
}

// Says an error (under `form`, when it came from one); a token no longer good signs out.
export function handleError(e, form = null) {
  const text = e instanceof HttpError ? e.message : `Something went wrong: ${e.message}`;
  if (form) sayNear(form, text, "error");
  else say(text, "error");
  if (!(e instanceof HttpError)) console.error(e);
  else if (e.status === 401) signOut(false);
}
