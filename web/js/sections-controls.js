// The sections list's controls: each row's buttons (enroll, join a waitlist, choose a
// lecture's linked section, drop, leave, the admin's "Edit seats"), the search box,
// "only with free seats" and Refresh. The list itself is drawn by sections.js.

import { act, handleError } from "./act.js";
import { $ } from "./dom.js";
import { say } from "./message.js";
import { refresh } from "./reads.js";
import { choose, renderSections, updateRow } from "./sections.js";
import { state } from "./state.js";

export function wireSections() {
  // One listener for every row: the rows are drawn again and again.
  $("sections-body").addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-action]");
    if (b) onRowButton(b);
  });
  $("search").addEventListener("input", renderSections);
  $("open-only").addEventListener("change", renderSections);
  $("refresh").addEventListener("click", () => refresh().then(() => say("Up to date.")).catch(handleError));
}

// What a row's button does, by its data-action, to the section on its row.
function onRowButton(b) {
  const section = b.dataset.section;
  const student = state.student;
  switch (b.dataset.action) {
    case "enroll": act({ type: "enroll", student, section, waitlist: false }, b); break;
    case "waitlist": act({ type: "enroll", student, section, waitlist: true }, b); break;
    case "choose": choose(section, false); break;
    case "choose-wait": choose(section, true); break;
    case "cancel-choice": {
      const lecture = state.choosing && state.choosing.section;
      choose(null);
      const s = state.byId.get(lecture || "");
      if (s) updateRow(s);
      break;
    }
    case "pair": case "pair-wait": {
      state.choosing = null;
      act({ type: "enroll", student, section, with: b.dataset.with, waitlist: b.dataset.action === "pair-wait" }, b);
      break;
    }
    case "enroll-part": {
      const part = state.byId.get(section);
      act({ type: "enroll", student, section: part.linked_to, with: section, waitlist: false }, b);
      break;
    }
    case "drop": act({ type: "drop", student, section }, b); break;
    case "leave": act({ type: "drop", student, section, leaving: "waitlist" }, b); break;
    case "edit-capacity": {
      $("cap-section").value = section;
      $("cap-value").value = state.byId.get(section)?.capacity ?? "";
      $("cap-value").focus();
      break;
    }
  }
}
