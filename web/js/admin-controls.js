// The admin view's controls: set a section's capacity, issue a permission number
// (shown until the next one), record a completed course, and read the log's tail
// again. The log is read and drawn by log.js.

import { act, handleError } from "./act.js";
import { $ } from "./dom.js";
import { loadLog } from "./log.js";
import { say } from "./message.js";

export function wireAdmin() {
  wireCapacity();
  wireIssue();
  wireCompletion();
  $("log-refresh").addEventListener("click", () => loadLog().catch(handleError));
}

function wireCapacity() {
  $("capacity-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const section = $("cap-section").value.trim();
    const capacity = Number($("cap-value").value);
    if (!section) { say("Enter a section id.", "error"); return; }
    if (!Number.isInteger(capacity) || capacity < 0) { say("Enter a whole number of seats.", "error"); return; }
    act({ type: "set_capacity", section, capacity }, ev.submitter);
  });
}

function wireIssue() {
  $("issue-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const student = $("issue-student").value.trim();
    const section = $("issue-section").value.trim();
    if (!student || !section) { say("Enter a student and a section.", "error"); return; }
    act({ type: "issue_permission", student, section }, ev.submitter).then((o) => {
      const shown = $("issue-code");
      shown.hidden = !(o && o.type === "permission");
      if (!shown.hidden) shown.textContent = `Permission number for ${student} in ${section}: ${o.code}`;
    });
  });
}

function wireCompletion() {
  $("completion-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const student = $("done-student").value.trim();
    const course = $("done-course").value.trim();
    if (!student || !course) { say("Enter a student and a course.", "error"); return; }
    act({ type: "record_completion", student, course }, ev.submitter);
  });
}
