// The murphy web page: plain ES module, no build step, no dependencies.
// Talks to API v1 (see /api/v1/openapi.json): cached reads revalidated with ETags,
// commands in an exactly-once session, live seat counts over Server-Sent Events.

const $ = (id) => document.getElementById(id);
const STORE_TOKEN = "murphy.token";
const STORE_STUDENT = "murphy.student";
const DAYS = ["M", "T", "W", "R", "F", "S", "U"];
const DAY_NAMES = { M: "Monday", T: "Tuesday", W: "Wednesday", R: "Thursday", F: "Friday", S: "Saturday", U: "Sunday" };

const state = {
  token: null,
  student: null, // the student id this page acts as (null: admin without one)
  admin: false,
  me: null, // the last StudentView
  catalog: null, // the last SectionsAnswer
  byId: new Map(), // section id -> SectionView (patched by live events)
  cache: new Map(), // path -> {etag, body}: by-hand HTTP revalidation
  session: null, // {client, seq}
  queue: Promise.resolve(), // commands are sent one at a time, in order
  events: null,
  lastLsn: 0,
  notes: new Map(), // section id -> {text, kind}: the last answer, shown on its row
  choosing: null, // {section, waitlist}: the lecture whose linked sections are offered
};

// ---------- messages ----------

// How long a message stays in view: long enough to read a refusal twice. Its row
// keeps the answer after the message goes (see `note`).
const MESSAGE_MS = { ok: 6000, info: 6000, refusal: 15000, error: 15000 };
let messageTimer = null;

// The message fixed to the bottom of the viewport (a polite live region, so screen
// readers announce it), wherever the student scrolled to.
function say(text, kind = "info") {
  const box = $("message");
  box.className = `message ${kind}`;
  // Re-set the text so screen readers announce a repeated message too.
  box.textContent = "";
  requestAnimationFrame(() => { box.textContent = text; });
  box.dataset.kind = kind;
  clearTimeout(messageTimer);
  messageTimer = setTimeout(() => { box.textContent = ""; }, MESSAGE_MS[kind] || 6000);
}

document.addEventListener("keydown", (ev) => {
  if (ev.key === "Escape") { clearTimeout(messageTimer); $("message").textContent = ""; }
});

// Brings the row's answer into view when it sits under the fixed message (the page's
// scroll-padding keeps the message's height clear) or off the screen; else no scroll.
function revealNote(section) {
  const p = document.getElementById(`note-${section}`);
  if (p) p.scrollIntoView({ block: "nearest" });
}

// The answer about a section, on its row in the list, beside the button clicked.
function note(section, text, kind) {
  if (!section) return;
  state.notes.set(section, { text, kind });
  const s = state.byId.get(section);
  if (s) updateRow(s);
}

function money(cents) {
  const sign = cents < 0 ? "−" : "";
  const abs = Math.abs(cents);
  return `${sign}$${Math.floor(abs / 100).toLocaleString("en-US")}.${String(abs % 100).padStart(2, "0")}`;
}

function ordinal(n) {
  const s = ["th", "st", "nd", "rd"];
  const v = n % 100;
  return n + (s[(v - 20) % 10] || s[v] || s[0]);
}

function when(instant) {
  const d = new Date(instant);
  return Number.isNaN(d.getTime()) ? instant : d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

function meetingsText(meetings) {
  return (meetings || []).map((m) => `${m.days} ${m.start}–${m.end}`).join(", ") || "TBA";
}

// "COMSCI-32-1 with COMSCI-32-1A" for a pair, the section alone otherwise.
function pairText(sec, withSec) {
  return withSec ? `${sec} with ${withSec}` : sec;
}

function list(ids) {
  return ids.length <= 1 ? (ids[0] || "") : `${ids.slice(0, -1).join(", ")} or ${ids[ids.length - 1]}`;
}

const LINK_PROBLEMS = {
  has_links: "it has linked sections of its own",
  linked_elsewhere: "it is already linked to another section",
  not_empty: "students are enrolled or waiting in it",
  meets_at_the_same_time: "it meets at the same time",
};

// A sentence a student understands, for every outcome a command can have.
export function describe(command, outcome) {
  const sec = command.section || command.to;
  const both = pairText(sec, command.with);
  switch (outcome.type) {
    case "enrolled":
      return `You are enrolled in ${both}.` + (command.permission ? ` Your permission number ${command.permission} is used.` : "");
    case "waitlisted":
      return command.with
        ? `No seats in ${both} for you now; you are ${ordinal(outcome.position)} on ${sec}'s waitlist, for both.`
        : `${sec} is full; you are ${ordinal(outcome.position)} on its waitlist.`;
    case "full":
      if (command.permission) return `${both} is full. A permission number never adds a seat.`;
      return command.waitlist
        ? `${both} is full, and so is its waitlist. Nothing was changed.`
        : `${both} is full. You can join its waitlist instead.`;
    case "reserved": return `The seats left in ${sec} are reserved until ${when(outcome.until)}; they open to everyone then. You can join its waitlist.`;
    case "needs_linked": return needsLinkedText(command, outcome.choices);
    case "missing_prerequisite": return `${sec} requires ${outcome.course}, which is not on your record as completed. The registrar can give you a permission number.`;
    case "bad_permission": return `That permission number does not open ${sec} for you: it is someone else's, for another section, or already used.`;
    case "completion_recorded": return `${command.course} is now on ${command.student}'s record as completed.`;
    case "permission": return `Permission number ${outcome.code}: it lets ${command.student} enroll in ${command.section} once.`;
    case "below_reserved": return `${sec} has ${outcome.enrolled} enrolled and ${seatCount(outcome.held)} still held for reservations; its capacity cannot be set below ${outcome.enrolled + outcome.held}.`;
    case "cannot_link": return `${outcome.section} cannot be linked to ${sec}: ${LINK_PROBLEMS[outcome.reason] || outcome.reason}.`;
    case "already_enrolled": return `You are already enrolled in ${sec}.`;
    case "already_waitlisted": return `You are already on ${sec}'s waitlist, ${ordinal(outcome.position)} in line.`;
    case "time_conflict": return `${sec} meets at the same time as ${outcome.with}, which you are enrolled in.`;
    case "unit_limit": return `${sec} would bring you to ${outcome.units} units; your limit is ${outcome.max_units}.`;
    case "hold": return `You have a hold on your account (balance ${money(outcome.balance_cents)}). Pay it before enrolling; you can still drop.`;
    case "not_open": return `Your registration appointment opens ${when(outcome.opens_at)}; you cannot enroll before then.`;
    case "not_enrolled":
      return command.type === "swap"
        ? `You are not enrolled in ${command.from}, so it cannot be swapped.`
        : `You are not enrolled in ${sec}, nor on its waitlist.`;
    case "dropped": {
      const left = command.leaving === "waitlist" ? `You left ${sec}'s waitlist.`
        : outcome.linked ? `You dropped ${sec}, and ${outcome.linked} with it.` : `You dropped ${sec}.`;
      return left + promotedText(outcome.promoted);
    }
    case "swapped": {
      const from = outcome.linked ? `${command.from} and ${outcome.linked}` : command.from;
      return `You swapped ${from} for ${pairText(command.to, command.with)}.` + promotedText(outcome.promoted, command.from);
    }
    case "capacity_set": return `${sec} now has ${command.capacity} seats.` + promotedText(outcome.promoted);
    case "below_enrolled": return `${sec} has ${outcome.enrolled} enrolled ${outcome.enrolled === 1 ? "student" : "students"}; its capacity cannot be set below that.`;
    case "balance":
      return `Your balance is now ${money(outcome.cents)}.` +
        (outcome.fee_cents ? ` An overdraft fee of ${money(outcome.fee_cents)} was charged.` : "");
    case "insufficient_funds": return `Not enough money: your balance is ${money(outcome.balance_cents)}.`;
    case "balance_limit": return "That would take the balance past the largest amount allowed.";
    case "no_such_section": return `There is no section ${outcome.section}.`;
    case "no_such_student": return `There is no student ${outcome.student}.`;
    case "already_exists": return "That already exists.";
    case "created": return "Created.";
    case "appointment_set": return "The appointment is set.";
    default: return `murphy answered: ${outcome.type}.`;
  }
}

// What to do about a move that needs a linked section.
function needsLinkedText(command, choices) {
  const sec = command.section || command.to;
  if (command.type === "drop") return `${sec} goes with ${list(choices)}: drop that to leave both, or swap ${sec} for another of its sections.`;
  if (command.type === "swap") {
    return choices.length ? `That swap would split a lecture from its linked section; it can be made with ${list(choices)}.` : `${command.to} takes no linked section.`;
  }
  if (command.with && choices.length === 0) return `${sec} has no linked sections, so ${command.with} cannot go with it.`;
  if (command.with) return `${command.with} is not one of ${sec}'s linked sections: choose ${list(choices)}.`;
  return `${sec} is taken together with ${list(choices)}: choose one.`;
}

function promotedText(promoted, section) {
  if (!promoted || promoted.length === 0) return "";
  const who = promoted.join(", ");
  return ` ${section ? section + "'s" : "The"} freed seat${promoted.length > 1 ? "s went" : " went"} to ${who} from the waitlist.`;
}

const SUCCESS = new Set(["enrolled", "waitlisted", "dropped", "swapped", "capacity_set", "balance", "created", "appointment_set",
  "completion_recorded", "permission"]);

// ---------- HTTP ----------

class HttpError extends Error {
  constructor(status, detail, code) {
    super(detail);
    this.status = status;
    this.code = code;
  }
}

async function problemOf(res) {
  let detail = `murphy answered ${res.status} ${res.statusText}.`;
  let code;
  try {
    const body = await res.json();
    if (body && body.detail) detail = body.detail;
    code = body && body.code;
  } catch { /* not a problem body */ }
  return new HttpError(res.status, detail, code);
}

function headers(extra = {}) {
  return { Authorization: `Bearer ${state.token}`, ...extra };
}

// GET with a cached copy revalidated by hand: If-None-Match with the last ETag, and a
// 304 reuses the body we kept. The browser's own cache is bypassed (no-store).
async function cachedGet(path) {
  const kept = state.cache.get(path);
  const h = headers(kept ? { "If-None-Match": kept.etag } : {});
  const res = await fetch(path, { headers: h, cache: "no-store" });
  if (res.status === 304 && kept) return { body: kept.body, fresh: false };
  if (!res.ok) throw await problemOf(res);
  const body = await res.json();
  const etag = res.headers.get("ETag");
  if (etag) state.cache.set(path, { etag, body });
  return { body, fresh: true };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function newSession() {
  const rand = crypto.getRandomValues(new Uint8Array(12));
  const hex = Array.from(rand, (b) => b.toString(16).padStart(2, "0")).join("");
  state.session = { client: `web-${hex}`, seq: 0 };
}

// Sends commands in this tab's session. A network error or a 503 retries the SAME seq,
// so the server applies the request once even if an answer was lost.
function sendCommands(commands) {
  const run = async () => {
    const seq = state.session.seq + 1;
    const body = JSON.stringify({ client: state.session.client, seq, commands });
    const delays = [250, 500, 1000, 2000, 4000];
    for (let attempt = 0; ; attempt++) {
      let res;
      try {
        res = await fetch("/api/v1/commands", {
          method: "POST",
          headers: headers({ "Content-Type": "application/json" }),
          body,
          cache: "no-store",
        });
      } catch (e) {
        if (attempt < delays.length) {
          say("Connection trouble; trying again…", "info");
          await sleep(delays[attempt]);
          continue;
        }
        // We cannot know whether it was applied: start a fresh session, say so.
        newSession();
        throw new HttpError(0, "murphy could not be reached. Your last request may or may not have been applied; check your schedule before trying again.");
      }
      if (res.status === 503 && attempt < delays.length) {
        const after = Number(res.headers.get("Retry-After")) || 0;
        await sleep(Math.max(after * 1000, delays[attempt]));
        continue;
      }
      if (!res.ok) {
        const err = await problemOf(res);
        // A refused request (4xx) was not applied; its seq is not used up.
        throw err;
      }
      state.session.seq = seq;
      const answer = await res.json();
      for (const r of answer.results) state.lastLsn = Math.max(state.lastLsn, r.lsn);
      return answer.results;
    }
  };
  const p = state.queue.then(run, run);
  state.queue = p.catch(() => {});
  return p;
}

// Runs one command from a button or form, and reports its outcome in words.
async function act(command, button) {
  if (button) button.disabled = true;
  document.body.setAttribute("aria-busy", "true");
  const section = command.section || command.to;
  // Asked before sending: the refresh after the answer rebuilds the rows.
  const fromList = Boolean(button && button.closest("#sections-body"));
  state.notes.delete(section);
  try {
    const [result] = await sendCommands([stripHints(command)]);
    const kind = SUCCESS.has(result.outcome.type) ? "ok" : "refusal";
    const text = describe(command, result.outcome);
    say(text, kind);
    note(section, text, kind);
    await refresh();
    if (fromList) revealNote(section);
    return result.outcome;
  } catch (e) {
    handleError(e);
    if (e instanceof HttpError) note(section, e.message, "error");
  } finally {
    if (button) button.disabled = false;
    document.body.removeAttribute("aria-busy");
  }
}

function stripHints(command) {
  const { leaving, ...wire } = command;
  return wire;
}

function handleError(e) {
  if (e instanceof HttpError) {
    say(e.message, "error");
    if (e.status === 401) signOut(false);
  } else {
    say(`Something went wrong: ${e.message}`, "error");
    console.error(e);
  }
}

// ---------- sign in ----------

async function signIn(token, student) {
  state.token = token;
  state.student = student || null;
  state.cache.clear();
  state.byId.clear();
  state.catalog = null;
  state.me = null;
  state.notes.clear();
  // Whose token is this? The token says: a student's, or the admin's.
  const res = await fetch("/api/v1/me", { headers: headers(), cache: "no-store" });
  if (!res.ok) throw await problemOf(res);
  const me = await res.json();
  state.admin = me.admin === true;
  if (!state.admin) {
    if (student && student !== me.student) {
      throw new HttpError(403, `That token belongs to ${me.student}, not to ${student}. Leave the student id empty to sign in as ${me.student}.`);
    }
    state.student = me.student;
  }
  if (state.student) await loadStudent();
  newSession();
  localStorage.setItem(STORE_TOKEN, token);
  // Only an admin acting for a student needs the id kept; a student's token says it.
  if (state.admin && state.student) localStorage.setItem(STORE_STUDENT, state.student);
  else localStorage.removeItem(STORE_STUDENT);
  showApp();
  await loadSections();
  connectEvents();
  if (state.admin) loadLog();
}

function signOut(clearMessage = true) {
  localStorage.removeItem(STORE_TOKEN);
  localStorage.removeItem(STORE_STUDENT);
  if (state.events) state.events.close();
  state.events = null;
  state.token = null;
  state.student = null;
  state.admin = false;
  state.me = null;
  state.cache.clear();
  state.notes.clear();
  for (const id of ["schedule-view", "sections-view", "admin-view", "nav", "who", "signout", "live"]) $(id).hidden = true;
  $("signin-view").hidden = false;
  $("signin-token").value = "";
  if (clearMessage) say("You are signed out.");
  $("signin-token").focus();
}

function showApp() {
  $("signin-view").hidden = true;
  $("nav").hidden = false;
  $("signout").hidden = false;
  $("who").hidden = false;
  $("who").textContent = state.admin
    ? (state.student ? `Admin, acting as ${state.student}` : "Signed in as admin")
    : `Signed in as ${state.student}`;
  $("schedule-view").hidden = !state.student;
  $("nav-schedule").hidden = !state.student;
  $("sections-view").hidden = false;
  $("admin-view").hidden = !state.admin;
  $("nav-admin").hidden = !state.admin;
  document.body.classList.toggle("is-admin", state.admin);
  document.body.classList.toggle("has-student", !!state.student);
}

// ---------- reads ----------

async function loadSections() {
  const { body, fresh } = await cachedGet("/api/v1/sections");
  if (fresh || !state.catalog) {
    state.catalog = body;
    for (const s of body.sections) {
      const known = state.byId.get(s.id);
      // A live event may already have told us something newer.
      if (!known || known.version <= s.version) state.byId.set(s.id, s);
    }
    renderSections();
    // The schedule names sections' titles and meetings: draw it again with them.
    if (state.me) renderStudent();
  }
  state.lastLsn = Math.max(state.lastLsn, body.version);
}

async function loadStudent() {
  if (!state.student) return;
  const { body } = await cachedGet(`/api/v1/students/${encodeURIComponent(state.student)}`);
  state.me = body;
  state.lastLsn = Math.max(state.lastLsn, body.version);
  renderStudent();
}

async function refresh() {
  const jobs = [loadSections()];
  if (state.student) jobs.push(loadStudent());
  if (state.admin) jobs.push(loadLog());
  await Promise.all(jobs);
  updateRowActions();
}

// ---------- live events ----------

let studentRefresh = null;

function connectEvents() {
  if (state.events) state.events.close();
  const es = new EventSource(`/api/v1/events?access_token=${encodeURIComponent(state.token)}`);
  state.events = es;
  const live = $("live");
  live.hidden = false;
  const setLive = (on, text) => {
    live.classList.toggle("on", on);
    $("live-text").textContent = text;
  };
  setLive(false, "Connecting…");
  es.addEventListener("ready", () => setLive(true, "Live"));
  es.addEventListener("section", (ev) => {
    setLive(true, "Live");
    let data;
    try { data = JSON.parse(ev.data); } catch { return; }
    applySectionEvent(data);
  });
  es.onerror = () => {
    if (es.readyState === EventSource.CLOSED) setLive(false, "Live updates off");
    else setLive(false, "Reconnecting…");
  };
}

function applySectionEvent(ev) {
  const s = state.byId.get(ev.id);
  if (!s) {
    // A section we have not seen yet: read the catalog again.
    loadSections().catch(() => {});
    return;
  }
  if (ev.version < s.version) return;
  Object.assign(s, { capacity: ev.capacity, enrolled: ev.enrolled, waitlisted: ev.waitlisted, held: ev.held, version: ev.version });
  updateRow(s);
  const me = state.me;
  if (me && (me.enrolled.includes(ev.id) || me.waitlisted.includes(ev.id))) {
    // Maybe a promotion from a waitlist, or a drop: read my record again (cheap: ETag).
    clearTimeout(studentRefresh);
    studentRefresh = setTimeout(() => loadStudent().then(updateRowActions).catch(() => {}), 50);
  }
}

// ---------- sections list ----------

function seatsFree(s) { return Math.max(0, s.capacity - s.enrolled); }

// Seats still held by reservations: from the live event when one came, else the read.
function heldOf(s) {
  return s.held ?? (s.reserved || []).reduce((n, r) => n + r.held, 0);
}

// Seats anyone may take: the free ones not held for a population.
function openToAll(s) { return Math.max(0, seatsFree(s) - heldOf(s)); }

function matches(s, q) {
  if (!q) return true;
  const hay = `${s.id} ${s.title} ${meetingsText(s.meetings)}`.toLowerCase();
  return q.split(/\s+/).every((w) => hay.includes(w));
}

function renderSections() {
  const body = $("sections-body");
  const focused = document.activeElement && document.activeElement.dataset ? { ...document.activeElement.dataset } : null;
  const q = $("search").value.trim().toLowerCase();
  const openOnly = $("open-only").checked;
  // Numbers in ids sort as numbers: COMSCI-31 before COMSCI-111.
  const all = [...state.byId.values()].sort((a, b) => a.id.localeCompare(b.id, "en", { numeric: true }));
  const shown = all.filter((s) => matches(s, q) && (!openOnly || seatsFree(s) > 0));
  const frag = document.createDocumentFragment();
  for (const s of shown) frag.appendChild(sectionRow(s));
  body.replaceChildren(frag);
  $("sections-count").textContent = `${shown.length} of ${all.length} sections` + (q ? ` match “${q}”` : "") + ".";
  const list = $("section-ids");
  list.replaceChildren(...all.map((s) => { const o = document.createElement("option"); o.value = s.id; o.label = s.title; return o; }));
  if (focused && focused.action && focused.section) {
    const again = body.querySelector(`button[data-action="${focused.action}"][data-section="${CSS.escape(focused.section)}"]`);
    if (again) again.focus();
  }
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

function cell(label, text) {
  const td = document.createElement("td");
  td.dataset.label = label;
  td.textContent = text;
  return td;
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

function button(text, action, section, cls = "") {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  b.dataset.action = action;
  b.dataset.section = section;
  if (cls) b.className = cls;
  b.setAttribute("aria-label", `${text}: ${section}`);
  return b;
}

function fillActions(cell, s) {
  const td = document.createElement("div");
  td.className = "actions-inner";
  cell.replaceChildren(td);
  const said = state.notes.get(s.id);
  if (said) {
    const p = document.createElement("p");
    p.className = `row-note ${said.kind}`;
    p.id = `note-${s.id}`;
    p.textContent = said.text;
    cell.append(p);
  }
  fillButtons(td, s);
  // The row's last answer describes its buttons, for a screen reader's next visit.
  if (said) for (const b of td.querySelectorAll("button")) b.setAttribute("aria-describedby", `note-${s.id}`);
}

function tag(text, kind) {
  const t = document.createElement("span");
  t.className = `tag ${kind}`;
  t.textContent = text;
  return t;
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

function updateRow(s) {
  const tr = $("sections-body").querySelector(`tr[data-id="${CSS.escape(s.id)}"]`);
  if (!tr) return;
  fillCounts(tr, s);
  const actions = tr.querySelector(".actions");
  // Keep keyboard focus where it was when the buttons are rebuilt.
  const had = actions.contains(document.activeElement) ? document.activeElement.dataset.action : null;
  fillActions(actions, s);
  if (had) (actions.querySelector(`[data-action="${had}"]`) || actions.querySelector("button"))?.focus();
  if (state.me) renderWeek();
}

function updateRowActions() {
  for (const s of state.byId.values()) updateRow(s);
}

// Offers a lecture's linked sections on its row (or takes the offer back), keeping the
// keyboard on the row.
function choose(section, waitlist) {
  state.choosing = section ? { section, waitlist } : null;
  const s = state.byId.get(section || "");
  if (s) updateRow(s);
  const tr = section && $("sections-body").querySelector(`tr[data-id="${CSS.escape(section)}"]`);
  if (tr) tr.querySelector(".chooser button")?.focus();
}

$("sections-body").addEventListener("click", (ev) => {
  const b = ev.target.closest("button[data-action]");
  if (!b) return;
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
});

$("search").addEventListener("input", renderSections);
$("open-only").addEventListener("change", renderSections);
$("refresh").addEventListener("click", () => refresh().then(() => say("Up to date.")).catch(handleError));

// ---------- the student ----------

function renderStudent() {
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
  wl.replaceChildren(...me.waitlisted.map((id) => listItem(id, "leave", "Leave waitlist", (me.waitlisted_with || {})[id])));
  if (me.waitlisted.length === 0) wl.append(emptyItem("None."));

  const from = $("swap-from");
  const keep = from.value;
  from.replaceChildren(...me.enrolled.map((id) => { const o = document.createElement("option"); o.value = id; o.textContent = id; return o; }));
  if (me.enrolled.includes(keep)) from.value = keep;
  $("swap-form").querySelector("button").disabled = me.enrolled.length === 0;
  renderWeek();
}

function emptyItem(text) {
  const li = document.createElement("li");
  li.className = "hint";
  li.textContent = text;
  return li;
}

function listItem(id, action, label, withSec) {
  const li = document.createElement("li");
  const s = state.byId.get(id);
  const text = document.createElement("span");
  text.innerHTML = `<strong></strong> <span class="title"></span> <span class="meets"></span>`;
  text.querySelector("strong").textContent = withSec ? `${id} with ${withSec}` : id;
  text.querySelector(".title").textContent = s ? s.title : "";
  text.querySelector(".meets").textContent = s ? meetingsText(s.meetings) : "";
  li.append(text, button(label, action, id, "danger"));
  return li;
}

for (const listId of ["enrolled-list", "waitlisted-list"]) {
  $(listId).addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-action]");
    if (!b) return;
    const command = { type: "drop", student: state.student, section: b.dataset.section };
    if (b.dataset.action === "leave") command.leaving = "waitlist";
    act(command, b);
  });
}

const toMin = (hhmm) => { const [h, m] = hhmm.split(":").map(Number); return h * 60 + m; };

// The weekly grid: one column per day, one grid row per 10 minutes.
function renderWeek() {
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
    el.innerHTML = `<strong></strong><span></span>`;
    el.firstChild.textContent = b.id;
    el.lastChild.textContent = `${b.start}–${b.end}`;
    parts.push(el);
  }
  week.replaceChildren(...parts);
}

$("swap-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const from = $("swap-from").value;
  const to = $("swap-to").value.trim();
  if (!from || !to) { say("Choose a section to leave and one to join.", "error"); return; }
  if (from === to) { say("Choose two different sections to swap.", "error"); return; }
  const withSec = $("swap-with").value.trim();
  act({ type: "swap", student: state.student, from, to, ...(withSec ? { with: withSec } : {}) }, ev.submitter);
});

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

$("deposit-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const cents = Math.round(Number($("deposit-amount").value) * 100);
  if (!Number.isFinite(cents) || cents < 1) { say("Enter an amount of at least $0.01.", "error"); return; }
  act({ type: "deposit", student: state.student, amount_cents: cents }, ev.submitter).then((o) => {
    if (o && o.type === "balance") $("deposit-amount").value = "";
  });
});

// ---------- admin ----------

$("capacity-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const section = $("cap-section").value.trim();
  const capacity = Number($("cap-value").value);
  if (!section) { say("Enter a section id.", "error"); return; }
  if (!Number.isInteger(capacity) || capacity < 0) { say("Enter a whole number of seats.", "error"); return; }
  act({ type: "set_capacity", section, capacity }, ev.submitter);
});

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

$("completion-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const student = $("done-student").value.trim();
  const course = $("done-course").value.trim();
  if (!student || !course) { say("Enter a student and a course.", "error"); return; }
  act({ type: "record_completion", student, course }, ev.submitter);
});

$("log-refresh").addEventListener("click", () => loadLog().catch(handleError));

const LOG_PAGE = 50;

// The log's tail: start a page before the newest LSN we know of, then page forward
// until a short page says we reached the end; show the last 50 entries.
async function loadLog() {
  if (!state.admin) return;
  let after = Math.max(0, state.lastLsn - LOG_PAGE);
  let lines = [];
  for (let pages = 0; pages < 100; pages++) {
    const res = await fetch(`/api/v1/log?after=${after}&limit=${LOG_PAGE}`, { headers: headers(), cache: "no-store" });
    if (!res.ok) throw await problemOf(res);
    const page = (await res.text()).split("\n").filter(Boolean).map((l) => JSON.parse(l));
    lines = lines.concat(page).slice(-LOG_PAGE);
    if (page.length < LOG_PAGE) break;
    after = page[page.length - 1].lsn;
  }
  if (lines.length) state.lastLsn = Math.max(state.lastLsn, lines[lines.length - 1].lsn);
  renderLog(lines);
}

function renderLog(lines) {
  const rows = lines.slice().reverse().map((e) => {
    const tr = document.createElement("tr");
    const ok = SUCCESS.has((e.outcome || {}).type);
    const cells = [String(e.lsn), new Date(e.at).toLocaleTimeString(), logSentence(e), e.client ? `${e.client} #${e.seq}` : "—"];
    for (const [i, text] of cells.entries()) {
      const td = document.createElement(i === 0 ? "th" : "td");
      if (i === 0) td.scope = "row";
      td.textContent = text;
      if (i === 2) td.className = ok ? "ok" : "refusal";
      tr.append(td);
    }
    return tr;
  });
  $("log-body").replaceChildren(...rows);
}

// ---------- the log, in sentences ----------

// A log entry as the registrar would tell it: "s0001 enrolled in MATH-1-1.", "The
// registrar could not set MATH-1-1's capacity to 0 seats: 3 students are enrolled."
export function logSentence(entry) {
  const c = entry.command || {};
  const o = entry.outcome || {};
  const released = ((entry.effects || {}).released || [])
    .map((r) => `${r.section}'s ${seatCount(r.seats)} held for ${r.for} opened to all (their time had come). `)
    .join("");
  return released + (done(c, o) ?? `${actor(c)} could not ${intent(c)}: ${reason(c, o)}.`);
}

// Who a command is by: the student it acts for, or the registrar for the catalog's.
function actor(c) {
  switch (c.type) {
    case "enroll": case "drop": case "swap": case "deposit": case "withdraw": return c.student;
    case "transfer": return c.from;
    default: return "The registrar";
  }
}

const seatCount = (n) => `${n} ${n === 1 ? "seat" : "seats"}`;

function movedUp(promoted) {
  if (!promoted || promoted.length === 0) return "";
  return ` ${promoted.join(", ")} got ${promoted.length === 1 ? "a seat" : "seats"} from the waitlist.`;
}

// What a command did, when it did what it asked; null for a refusal.
function done(c, o) {
  const who = actor(c);
  switch (o.type) {
    case "created":
      return c.type === "create_section"
        ? `The registrar created ${c.section}, ${c.title}: ${c.units} units, ${seatCount(c.capacity)}, a waitlist of ${c.waitlist_capacity}.`
        : `The registrar created student ${c.student}, ${c.name}.`;
    case "capacity_set": return `The registrar set ${c.section}'s capacity to ${seatCount(c.capacity)}.${movedUp(o.promoted)}`;
    case "appointment_set":
      return c.at ? `The registrar set ${c.student}'s registration to open ${when(c.at)}.` : `The registrar cleared ${c.student}'s registration appointment.`;
    case "enrolled": return `${who} enrolled in ${pairText(c.section, c.with)}${c.permission ? " with a permission number" : ""}.`;
    case "waitlisted": return `${who} joined ${c.section}'s waitlist${c.with ? ` (with ${c.with})` : ""}, ${ordinal(o.position)} in line.`;
    case "dropped": return `${who} dropped ${c.section}${o.linked ? ` and ${o.linked}` : ""}.${movedUp(o.promoted)}`;
    case "swapped": return `${who} swapped ${c.from} for ${pairText(c.to, c.with)}.${movedUp(o.promoted)}`;
    case "completion_recorded": return `The registrar recorded ${c.course} as completed by ${c.student}.`;
    case "permission": return `The registrar issued permission number ${o.code} to ${c.student} for ${c.section}.`;
    case "balance": {
      const fee = o.fee_cents ? `, after an overdraft fee of ${money(o.fee_cents)}` : "";
      const what = c.type === "deposit" ? `deposited ${money(c.amount_cents)}`
        : c.type === "withdraw" ? `withdrew ${money(c.amount_cents)}`
        : `transferred ${money(c.amount_cents)} to ${c.to}`;
      return `${who} ${what}; the balance is ${money(o.cents)}${fee}.`;
    }
    default: return null;
  }
}

// What a refused command asked for: the rest of "X could not ...".
function intent(c) {
  switch (c.type) {
    case "create_section": return `create section ${c.section}`;
    case "set_capacity": return `set ${c.section}'s capacity to ${seatCount(c.capacity)}`;
    case "create_student": return `create student ${c.student}`;
    case "set_appointment": return `set ${c.student}'s registration appointment`;
    case "enroll": return `enroll in ${pairText(c.section, c.with)}` + (c.waitlist ? " or its waitlist" : "");
    case "record_completion": return `record ${c.course} as completed by ${c.student}`;
    case "issue_permission": return `issue a permission number to ${c.student} for ${c.section}`;
    case "drop": return `drop ${c.section}`;
    case "swap": return `swap ${c.from} for ${c.to}`;
    case "deposit": return `deposit ${money(c.amount_cents)}`;
    case "withdraw": return `withdraw ${money(c.amount_cents)}`;
    case "transfer": return `transfer ${money(c.amount_cents)} to ${c.to}`;
    default: return String(c.type).replaceAll("_", " ");
  }
}

// Why it was refused.
function reason(c, o) {
  switch (o.type) {
    case "full": return c.waitlist ? "it is full, and so is its waitlist" : "it is full";
    case "already_enrolled": return "already enrolled there";
    case "already_waitlisted": return `already ${ordinal(o.position)} on its waitlist`;
    case "time_conflict": return `it meets at the same time as ${o.with}`;
    case "unit_limit": return `that would make ${o.units} units, over the limit of ${o.max_units}`;
    case "hold": return `a hold, with a balance of ${money(o.balance_cents)}`;
    case "not_open": return `registration opens ${when(o.opens_at)}`;
    case "not_enrolled": return `not enrolled in ${c.type === "swap" ? c.from : c.section}`;
    case "below_enrolled": return `${o.enrolled} ${o.enrolled === 1 ? "student is" : "students are"} enrolled`;
    case "below_reserved": return `${o.enrolled} enrolled and ${seatCount(o.held)} held for reservations`;
    case "reserved": return `the seats left are reserved until ${when(o.until)}`;
    case "needs_linked": return `it goes together with ${list(o.choices)}`;
    case "missing_prerequisite": return `${o.course} is not completed`;
    case "bad_permission": return "the permission number is not valid for it";
    case "cannot_link": return `${o.section} cannot be linked (${LINK_PROBLEMS[o.reason] || o.reason})`;
    case "insufficient_funds": return `the balance is only ${money(o.balance_cents)}`;
    case "balance_limit": return "the balance would pass the most murphy holds";
    case "no_such_section": return `there is no section ${o.section}`;
    case "no_such_student": return `there is no student ${o.student}`;
    case "already_exists": return "it already exists";
    default: return String(o.type).replaceAll("_", " ");
  }
}

// ---------- start ----------

$("signin-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const token = $("signin-token").value.trim();
  const student = $("signin-student").value.trim();
  if (!token) { say("Enter your token.", "error"); $("signin-token").focus(); return; }
  if (student && !/^[A-Za-z0-9_.:-]{1,64}$/.test(student)) {
    say("A student id is 1 to 64 letters, digits, '-', '_', '.' or ':'.", "error");
    $("signin-student").focus();
    return;
  }
  const b = ev.submitter;
  if (b) b.disabled = true;
  try {
    await signIn(token, student);
    say(state.student ? `Welcome, ${state.me ? state.me.name : state.student}.` : "Signed in as admin.", "ok");
    // Into the content for keyboards and screen readers, without scrolling the
    // header out of view.
    $("main").focus({ preventScroll: true });
    window.scrollTo(0, 0);
  } catch (e) {
    state.token = null;
    handleError(e);
  } finally {
    if (b) b.disabled = false;
  }
});

$("signout").addEventListener("click", () => signOut());

(async function start() {
  const token = localStorage.getItem(STORE_TOKEN);
  const student = localStorage.getItem(STORE_STUDENT);
  if (student) $("signin-student").value = student;
  if (!token) { $("signin-view").hidden = false; return; }
  try {
    await signIn(token, student);
  } catch (e) {
    signOut(false);
    if (student) $("signin-student").value = student;
    handleError(e);
  }
})();
