// The sections list drawn from the pages read (the server searched and filtered them):
// each row's counts (patched in place by live events), its rules, the buttons that fit
// who is signed in, a lecture's linked sections offered on its row, and the last answer
// about the section kept on its row. Rows are drawn a page at a time, and found by id
// in a map, so a list of 10,000 costs nothing per patch. Drawing only: the buttons are
// wired in sections-controls.js.

import { $, button, cell, tag } from "./dom.js";
import { renderWeek } from "./schedule.js";
import { state } from "./state.js";
import { meetingsText, seatCount, when } from "./words.js";

// Brings the row's answer into view when it sits under the fixed message (the page's
// scroll-padding keeps the message's height clear) or off the screen; else no scroll.
export function revealNote(section) {
  const p = document.getElementById(`note-${section}`);
  if (p) p.scrollIntoView({ block: "nearest" });
}

// The answer about a section, on its row in the list, beside the button clicked.
export function note(section, text, kind) {
  if (!section) return;
  state.notes.set(section, { text, kind });
  const s = state.byId.get(section);
  if (s) updateRow(s);
}

function seatsFree(s) { return Math.max(0, s.capacity - s.enrolled); }

// Seats still held by reservations: from the live event when one came, else the read.
function heldOf(s) {
  return s.held ?? (s.reserved || []).reduce((n, r) => n + r.held, 0);
}

// Seats anyone may take: the free ones not held for a population.
function openToAll(s) { return Math.max(0, seatsFree(s) - heldOf(s)); }

// The rows drawn, by section id.
const rows = new Map();

// The list drawn anew from the pages read (in the server's order: COMSCI-31 before
// COMSCI-111), keeping the keyboard's place.
export function renderSections() {
  const body = $("sections-body");
  const focused = document.activeElement && document.activeElement.dataset ? { ...document.activeElement.dataset } : null;
  rows.clear();
  body.replaceChildren(rowsOf(state.list.ids));
  $("section-ids").replaceChildren(optionsOf(state.list.ids));
  sayCount();
  if (focused && focused.action && focused.section) {
    const again = body.querySelector(`button[data-action="${focused.action}"][data-section="${CSS.escape(focused.section)}"]`);
    if (again) again.focus();
  }
}

// The rows of a page read after the others, at the end of the list.
export function appendRows(ids) {
  $("sections-body").append(rowsOf(ids));
  $("section-ids").append(optionsOf(ids));
  sayCount();
}

function rowsOf(ids) {
  const frag = document.createDocumentFragment();
  for (const id of ids) {
    const s = state.byId.get(id);
    if (!s) continue;
    const tr = sectionRow(s);
    rows.set(id, tr);
    frag.appendChild(tr);
  }
  return frag;
}

function optionsOf(ids) {
  const frag = document.createDocumentFragment();
  for (const id of ids) {
    const o = document.createElement("option");
    o.value = id;
    o.label = state.byId.get(id)?.title || "";
    frag.appendChild(o);
  }
  return frag;
}

function sayCount() {
  const n = state.list.ids.length;
  const words = $("search").value.trim();
  const some = `${n} ${n === 1 ? "section" : "sections"}`;
  let text;
  if (state.list.next) text = `${some} shown; more as you scroll.`;
  else if (words) text = `${some} ${n === 1 ? "matches" : "match"} “${words}”.`;
  else text = `${some}.`;
  $("sections-count").textContent = text;
  $("sections-more").hidden = !state.list.next;
}

function sectionRow(s) {
  const tr = document.createElement("tr");
  tr.dataset.id = s.id;
  const th = document.createElement("th");
  th.scope = "row";
  th.innerHTML = `<span class="sid"></span><span class="title"></span>`;
  th.querySelector(".sid").textContent = s.id;
  th.querySelector(".title").textContent = s.title;
  const rules = rulesText(s);
  if (rules) {
    const p = document.createElement("span");
    p.className = "rules";
    p.textContent = rules;
    th.append(p);
  }
  const meets = cell("Meets", meetingsText(s.meetings));
  const units = cell("Units", String(s.units));
  const seats = cell("Seats", "");
  seats.classList.add("seats");
  const wait = cell("Waitlist", "");
  wait.classList.add("wait");
  const actions = document.createElement("td");
  actions.className = "actions";
  tr.append(th, meets, units, seats, wait, actions);
  fillCounts(tr, s);
  fillActions(actions, s);
  return tr;
}

// What the registrar's rules say about a section, in one line (empty for most).
function rulesText(s) {
  const parts = [];
  if ((s.linked || []).length) parts.push(`With a discussion or lab: ${s.linked.join(", ")}`);
  if (s.linked_to) parts.push(`Taken with ${s.linked_to}`);
  if ((s.prerequisites || []).length) parts.push(`Requires ${s.prerequisites.join(", ")}`);
  for (const r of s.reserved || []) {
    parts.push(`${seatCount(r.seats)} for ${r.for.replace(":", " ")} until ${when(r.until)} (${r.held} still held)`);
  }
  return parts.join(" · ");
}

function fillCounts(tr, s) {
  const free = seatsFree(s);
  const held = heldOf(s);
  const seats = tr.querySelector(".seats");
  seats.textContent = `${s.enrolled} / ${s.capacity}` + (held ? ` (${held} held)` : "");
  seats.setAttribute("aria-label", `${s.enrolled} of ${s.capacity} seats taken, ${free} free` +
    (held ? `, ${held} of them held for reservations` : ""));
  seats.classList.toggle("is-full", free === 0);
  const wait = tr.querySelector(".wait");
  wait.textContent = `${s.waitlisted} / ${s.waitlist_capacity}`;
  wait.setAttribute("aria-label", `${s.waitlisted} waiting, room for ${s.waitlist_capacity}`);
}

function fillActions(actions, s) {
  const td = document.createElement("div");
  td.className = "actions-inner";
  actions.replaceChildren(td);
  const said = state.notes.get(s.id);
  if (said) {
    const p = document.createElement("p");
    p.className = `row-note ${said.kind}`;
    p.id = `note-${s.id}`;
    p.textContent = said.text;
    actions.append(p);
  }
  fillButtons(td, s);
  // The row's last answer describes its buttons, for a screen reader's next visit.
  if (said) for (const b of td.querySelectorAll("button")) b.setAttribute("aria-describedby", `note-${s.id}`);
}

function fillButtons(td, s) {
  if (!state.student) {
    if (state.admin) td.append(button("Edit seats", "edit-capacity", s.id));
    return;
  }
  const me = state.me;
  if (me && me.enrolled.includes(s.id)) {
    // A linked section is dropped with its lecture, from the lecture's row.
    if (s.linked_to) td.append(tag(`Enrolled, with ${s.linked_to}`, "ok"));
    else td.append(tag("Enrolled", "ok"), button("Drop", "drop", s.id, "danger"));
  } else if (me && me.waitlisted.includes(s.id)) {
    const withSec = (me.waitlisted_with || {})[s.id];
    td.append(tag(withSec ? `On waitlist, with ${withSec}` : "On waitlist", "wait"), button("Leave waitlist", "leave", s.id, "danger"));
  } else if (s.linked_to) {
    const b = button(`Enroll with ${s.linked_to}`, "enroll-part", s.id, "primary");
    b.setAttribute("aria-label", `Enroll in ${s.linked_to} with ${s.id}`);
    td.append(b);
  } else if (state.choosing && state.choosing.section === s.id) {
    td.append(chooser(s, state.choosing.waitlist));
  } else {
    const linked = (s.linked || []).length > 0;
    td.append(button("Enroll", linked ? "choose" : "enroll", s.id, "primary"));
    if (openToAll(s) === 0 && s.waitlist_capacity > 0) td.append(button("Join waitlist", linked ? "choose-wait" : "waitlist", s.id));
  }
}

// A lecture's linked sections, offered as one button each (with their hours and free
// seats): the pair is taken, or waited for, in one command.
function chooser(s, waitlist) {
  const group = document.createElement("div");
  group.className = "chooser";
  group.setAttribute("role", "group");
  group.setAttribute("aria-label", `Choose a discussion or lab to take with ${s.id}`);
  const hint = document.createElement("span");
  hint.className = "hint";
  hint.textContent = waitlist ? "Wait for it with:" : "Take it with:";
  group.append(hint);
  for (const id of s.linked) {
    const part = state.byId.get(id);
    const b = button(part ? `${id} · ${meetingsText(part.meetings)} · ${seatsFree(part)} free` : id, waitlist ? "pair-wait" : "pair", s.id);
    b.dataset.with = id;
    b.setAttribute("aria-label", `${waitlist ? "Wait for" : "Enroll in"} ${s.id} with ${id}`);
    group.append(b);
  }
  group.append(button("Cancel", "cancel-choice", s.id));
  return group;
}

// The row drawn for a section id, if it is in the list.
export function rowOf(id) {
  return rows.get(id) || null;
}

export function updateRow(s) {
  const tr = rows.get(s.id);
  if (!tr) return;
  fillCounts(tr, s);
  const actions = tr.querySelector(".actions");
  // Keep keyboard focus where it was when the buttons are rebuilt.
  const had = actions.contains(document.activeElement) ? document.activeElement.dataset.action : null;
  fillActions(actions, s);
  if (had) (actions.querySelector(`[data-action="${had}"]`) || actions.querySelector("button"))?.focus();
}

export function updateRowActions() {
  for (const id of rows.keys()) updateRow(state.byId.get(id));
  if (state.me) renderWeek();
}

// Offers a lecture's linked sections on its row (or takes the offer back), keeping the
// keyboard on the row.
export function choose(section, waitlist) {
  state.choosing = section ? { section, waitlist } : null;
  const s = state.byId.get(section || "");
  if (s) updateRow(s);
  const tr = section && rows.get(section);
  if (tr) tr.querySelector(".chooser button")?.focus();
}
