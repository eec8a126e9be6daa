// The schedule's controls: Drop and Leave waitlist on the student's lists, and the
// swap, permission-number and payment forms. The schedule itself is drawn by
// schedule.js.

import { act } from "./act.js";
import { $ } from "./dom.js";
import { say } from "./message.js";
import { state } from "./state.js";

export function wireSchedule() {
  for (const listId of ["enrolled-list", "waitlisted-list"]) {
    $(listId).addEventListener("click", (ev) => {
      const b = ev.target.closest("button[data-action]");
      if (!b) return;
      const command = { type: "drop", student: state.student, section: b.dataset.section };
      if (b.dataset.action === "leave") command.leaving = "waitlist";
      act(command, b);
    });
  }
  wireSwap();
  wirePermission();
  wireDeposit();
}

function wireSwap() {
  $("swap-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const from = $("swap-from").value;
    const to = $("swap-to").value.trim();
    if (!from || !to) { say("Choose a section to leave and one to join.", "error"); return; }
    if (from === to) { say("Choose two different sections to swap.", "error"); return; }
    const withSec = $("swap-with").value.trim();
    act({ type: "swap", student: state.student, from, to, ...(withSec ? { with: withSec } : {}) }, ev.submitter);
  });
}

// A permission number typed in is cleared once it was used.
function wirePermission() {
  $("permission-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const section = $("perm-section").value.trim();
    const code = $("perm-code").value.trim();
    const withSec = $("perm-with").value.trim();
    if (!section || !code) { say("Enter the section and the permission number.", "error"); return; }
    const command = { type: "enroll", student: state.student, section, waitlist: false, permission: code, ...(withSec ? { with: withSec } : {}) };
    act(command, ev.submitter).then((o) => {
      if (o && o.type === "enrolled") $("perm-code").value = "";
    });
  });
}

// The amount is in dollars; the command takes cents.
function wireDeposit() {
  $("deposit-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const cents = Math.round(Number($("deposit-amount").value) * 100);
    if (!Number.isFinite(cents) || cents < 1) { say("Enter an amount of at least $0.01.", "error"); return; }
    act({ type: "deposit", student: state.student, amount_cents: cents }, ev.submitter).then((o) => {
      if (o && o.type === "balance") $("deposit-amount").value = "";
    });
  });
}
