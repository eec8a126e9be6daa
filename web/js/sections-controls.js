// The sections list's controls: each row's buttons (enroll, join a waitlist, choose a
// lecture's linked section, drop, leave, the admin's "Edit seats"), the search box and
// "only with free seats" (the server searches: the first page is read again), the next
// page read when scrolling nears the list's end, and Refresh. The list itself is drawn
// by sections.js.

import { act, handleError } from "./act.js";
import { $ } from "./dom.js";
import { say } from "./message.js";
import { loadMore, loadSections, refresh } from "./reads.js";
import { choose, updateRow } from "./sections.js";
import { state } from "./state.js";

// How long typing pauses before the search is sent.
const SEARCH_PAUSE_MS = 120;

export function wireSections() {
  // One listener for every row: the rows are drawn again and again.
  $("sections-body").addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-action]");
    if (b) onRowButton(b);
  });
  // A search waits for a pause in typing, briefly: one request per word, not per key.
  let typing = null;
  const search = () => loadSections().catch(handleError);
  $("search").addEventListener("input", () => { clearTimeout(typing); typing = setTimeout(search, SEARCH_PAUSE_MS); });
  $("open-only").addEventListener("change", search);
  // The next page is read before the end of the list comes into view.
  new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting)) loadMore()?.catch(handleError);
  }, { rootMargin: "800px 0px" }).observe($("sections-more"));
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
