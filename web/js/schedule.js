// The student's view drawn from the last StudentView: the summary (units, balance and
// any hold, appointment, record), the lists of sections enrolled and waited for, the
// swap form's choices, and the week's grid. Drawing only: the buttons are wired in
// schedule-controls.js.

import { $, button, emptyItem } from "./dom.js";
import { state } from "./state.js";
import { meetingsText, money, ordinal, when } from "./words.js";

const DAYS = ["M", "T", "W", "R", "F", "S", "U"];
const DAY_NAMES = { M: "Monday", T: "Tuesday", W: "Wednesday", R: "Thursday", F: "Friday", S: "Saturday", U: "Sunday" };

export function renderStudent() {
  const me = state.me;
  if (!me) return;
  $("st-name").textContent = `${me.name} (${me.id})`;
  $("st-units").textContent = `${me.units} of ${me.max_units}`;
  const bal = $("st-balance");
  bal.textContent = money(me.balance_cents);
  bal.classList.toggle("negative", me.balance_cents < 0);
  const hold = $("st-hold");
  hold.hidden = me.balance_cents >= 0;
  hold.textContent = me.balance_cents < 0
    ? `Hold: your balance is ${money(me.balance_cents)}. You cannot enroll or be promoted from a waitlist until you pay ${money(-me.balance_cents)}; you can still drop.`
    : "";
  $("st-appointment-row").hidden = !me.appointment;
  $("st-appointment").textContent = me.appointment ? when(me.appointment) : "";
  $("st-major-row").hidden = !me.major && !me.standing;
  $("st-major").textContent = [me.major, me.standing].filter(Boolean).join(", ");
  $("st-completed").textContent = (me.completed || []).join(", ") || "None on record.";
  const permissions = me.permissions || [];
  $("st-permissions-row").hidden = permissions.length === 0;
  $("st-permissions").textContent = permissions
    .map((p) => `${p.code} for ${p.section} (${p.used ? "used" : "not used yet"})`)
    .join("; ");

  const el = $("enrolled-list");
  // A linked section is listed, and dropped, with its lecture.
  const mine = me.enrolled.filter((id) => !state.byId.get(id)?.linked_to);
  const partOf = (id) => me.enrolled.find((p) => state.byId.get(p)?.linked_to === id);
  el.replaceChildren(...mine.map((id) => listItem(id, "drop", "Drop", partOf(id))));
  if (me.enrolled.length === 0) el.append(emptyItem("None yet."));
  const wl = $("waitlisted-list");
  wl.replaceChildren(...me.waitlisted.map((id) => listItem(id, "leave", "Leave waitlist", (me.waitlisted_with || {})[id], placeText(me, id))));
  if (me.waitlisted.length === 0) wl.append(emptyItem("None."));
  $("waitlist-hint").hidden = me.waitlisted.length === 0;

  const from = $("swap-from");
  const keep = from.value;
  from.replaceChildren(...me.enrolled.map((id) => { const o = document.createElement("option"); o.value = id; o.textContent = id; return o; }));
  if (me.enrolled.includes(keep)) from.value = keep;
  $("swap-form").querySelector("button").disabled = me.enrolled.length === 0;
  renderWeek();
}

// "3rd of 12": the student's place in a section's line, and the line's length.
function placeText(me, id) {
  const place = (me.waitlist_positions || {})[id];
  const line = state.byId.get(id)?.waitlisted;
  if (!place) return "";
  return line >= place ? `${ordinal(place)} of ${line}` : ordinal(place);
}

// A section on a list, with the button that leaves it (`drop` or `leave`), and for a
// waitlist the place in it.
function listItem(id, action, label, withSec, place = "") {
  const li = document.createElement("li");
  const s = state.byId.get(id);
  const text = document.createElement("span");
  text.innerHTML = `<strong></strong> <span class="title"></span> <span class="meets"></span>`;
  text.querySelector("strong").textContent = withSec ? `${id} with ${withSec}` : id;
  text.querySelector(".title").textContent = s ? s.title : "";
  text.querySelector(".meets").textContent = s ? meetingsText(s.meetings) : "";
  if (place) {
    const p = document.createElement("span");
    p.className = "place";
    p.dataset.section = id;
    p.textContent = place;
    text.append(" ", p);
  }
  li.append(text, button(label, action, id, "danger"));
  return li;
}

// "09:30" as minutes after midnight.
const toMin = (hhmm) => { const [h, m] = hhmm.split(":").map(Number); return h * 60 + m; };

// The weekly grid: one column per day, one grid row per 10 minutes.
export function renderWeek() {
  const me = state.me;
  const week = $("week");
  if (!me) return;
  const blocks = [];
  for (const id of me.enrolled) {
    const s = state.byId.get(id);
    if (!s) continue;
    for (const m of s.meetings || []) {
      for (const d of m.days) blocks.push({ id, title: s.title, day: d, start: m.start, end: m.end });
    }
  }
  $("week-empty").hidden = blocks.length > 0;
  week.hidden = blocks.length === 0;
  if (blocks.length === 0) { week.replaceChildren(); return; }
  const days = DAYS.filter((d) => "MTWRF".includes(d) || blocks.some((b) => b.day === d));
  const first = Math.min(8 * 60, ...blocks.map((b) => Math.floor(toMin(b.start) / 60) * 60));
  const last = Math.max(17 * 60, ...blocks.map((b) => Math.ceil(toMin(b.end) / 60) * 60));
  const rows = (last - first) / 10;
  week.style.gridTemplateColumns = `3.2rem repeat(${days.length}, minmax(0, 1fr))`;
  week.style.gridTemplateRows = `auto repeat(${rows}, minmax(0.45rem, auto))`;
  const parts = [];
  const corner = document.createElement("div");
  corner.className = "corner";
  parts.push(corner);
  days.forEach((d, i) => {
    const h = document.createElement("div");
    h.className = "day";
    h.style.gridColumn = String(i + 2);
    h.style.gridRow = "1";
    h.innerHTML = `<abbr></abbr>`;
    h.firstChild.title = DAY_NAMES[d];
    h.firstChild.textContent = DAY_NAMES[d].slice(0, 3);
    parts.push(h);
  });
  for (let t = first; t < last; t += 60) {
    const r = (t - first) / 10 + 2;
    const label = document.createElement("div");
    label.className = "hour";
    label.style.gridColumn = "1";
    label.style.gridRow = `${r} / span 6`;
    label.textContent = `${String(t / 60).padStart(2, "0")}:00`;
    parts.push(label);
    const line = document.createElement("div");
    line.className = "hour-line";
    line.style.gridColumn = `2 / span ${days.length}`;
    line.style.gridRow = `${r} / span 6`;
    parts.push(line);
  }
  for (const b of blocks) {
    const el = document.createElement("div");
    el.className = "block";
    el.style.gridColumn = String(days.indexOf(b.day) + 2);
    el.style.gridRow = `${(toMin(b.start) - first) / 10 + 2} / ${(toMin(b.end) - first) / 10 + 2}`;
    el.setAttribute("role", "note");
    el.setAttribute("aria-label", `${DAY_NAMES[b.day]} ${b.start} to ${b.end}: ${b.id}, ${b.title}`);
    // The id, the course's title and the time; the title also on hover, where the
    // block is too small to show it whole.
    el.innerHTML = `<strong></strong><em class="title"></em><span></span>`;
    el.children[0].textContent = b.id;
    el.children[1].textContent = b.title;
    el.children[2].textContent = `${b.start}–${b.end}`;
    el.title = `${b.id}: ${b.title}, ${b.start}–${b.end}`;
    parts.push(el);
  }
  week.replaceChildren(...parts);
}
