// Live values over Server-Sent Events (/api/v1/events), for what is on the screen: the
// rows in view (an IntersectionObserver follows them) and, implicitly, the student's own
// sections and record. The stream is same-origin, so the HttpOnly sign-in cookie goes
// along and no credential is ever in its URL; when the rows in view change, or the
// stream breaks, a new one is opened. It starts with the current value of each
// section it watches (rows that came into view were read before, perhaps long ago),
// and the student's record is read again (it may have changed while no stream was up).
// Each section event patches its row in place; a student event (a promotion, a place
// in a line that moved) reads the student's record again. The "Live" badge says
// whether the stream is up.

import { $ } from "./dom.js";
import { loadStudent } from "./reads.js";
import { renderStudent } from "./schedule.js";
import { updateRow, updateRowActions } from "./sections.js";
import { state } from "./state.js";

// Sections one stream may name (the server's stream_sections_max).
const WATCHED_MAX = 200;
// How long the rows in view must stay put before the stream follows them.
const SETTLE_MS = 400;
// Waits before opening a broken stream again, growing to the last.
const RETRY_MS = [500, 1000, 2000, 5000, 10000];

const inView = new Set();
let settle = null;
let retries = 0;
let retryTimer = null;
// Whether a stream was up before: the next one reads the student's record again.
let reconnected = false;
// The pending read of the student's record: a burst of events reads it once.
let studentRefresh = null;

// Follows the rows of the sections list in and out of view.
export function wireEvents() {
  const seen = new IntersectionObserver((entries) => {
    for (const e of entries) {
      const id = e.target.dataset.id;
      if (e.isIntersecting) inView.add(id); else inView.delete(id);
    }
    followView();
  // A screen above and below counts as in view: a row scrolled to is already live.
  }, { rootMargin: "100% 0px" });
  // Rows come and go as the list is drawn: observe each one that is added.
  new MutationObserver((changes) => {
    for (const c of changes) {
      for (const n of c.addedNodes) if (n.dataset && n.dataset.id) seen.observe(n);
      for (const n of c.removedNodes) if (n.dataset && n.dataset.id) { seen.unobserve(n); inView.delete(n.dataset.id); }
    }
  }).observe($("sections-body"), { childList: true });
}

// Once the rows in view settle, watches them if they are not what is watched.
function followView() {
  clearTimeout(settle);
  settle = setTimeout(() => {
    if (signedIn() && watchedNow() !== state.watched) connectEvents();
  }, SETTLE_MS);
}

function signedIn() {
  return state.admin || state.student !== null;
}

function watchedNow() {
  return [...inView].sort().slice(0, WATCHED_MAX).join(",");
}

export function disconnectEvents() {
  reconnected = false;
  clearTimeout(retryTimer);
  clearTimeout(settle);
  if (state.events) state.events.close();
  state.events = null;
  state.watched = "";
}

export function connectEvents() {
  clearTimeout(retryTimer);
  const sections = watchedNow();
  // The registrar's stream without sections would watch every section: wait for rows.
  if (!state.student && !sections) return;
  setLive(false, "Connecting…");
  if (state.events) state.events.close();
  const params = new URLSearchParams();
  if (sections) params.set("sections", sections);
  const es = new EventSource(sections ? `/api/v1/events?${params}` : "/api/v1/events");
  state.events = es;
  state.watched = sections;
  es.addEventListener("ready", () => {
    retries = 0;
    setLive(true, "Live");
    if (reconnected) loadStudent().then(updateRowActions).catch(() => {});
    reconnected = true;
  });
  es.addEventListener("section", (ev) => {
    setLive(true, "Live");
    let data;
    try { data = JSON.parse(ev.data); } catch { return; }
    applySectionEvent(data);
  });
  es.addEventListener("student", (ev) => {
    let data;
    try { data = JSON.parse(ev.data); } catch { return; }
    applyStudentEvent(data);
  });
  es.onerror = () => {
    if (state.events !== es) return;
    // Reopened by hand, with backoff and the rows in view now, not the browser's way.
    es.close();
    state.events = null;
    retry();
  };
}

function retry() {
  setLive(false, "Reconnecting…");
  const wait = RETRY_MS[Math.min(retries, RETRY_MS.length - 1)];
  retries++;
  retryTimer = setTimeout(() => { if (signedIn()) connectEvents(); }, wait);
}

function setLive(on, text) {
  const live = $("live");
  live.hidden = false;
  live.classList.toggle("on", on);
  $("live-text").textContent = text;
}

function applySectionEvent(ev) {
  const s = state.byId.get(ev.id);
  if (!s || ev.version < s.version) return;
  Object.assign(s, { capacity: ev.capacity, enrolled: ev.enrolled, waitlisted: ev.waitlisted, held: ev.held, version: ev.version });
  updateRow(s);
  const me = state.me;
  // A line's length is shown with the student's place in it ("3rd of 12").
  if (me && me.waitlisted.includes(ev.id)) renderStudent();
}

function applyStudentEvent(ev) {
  const me = state.me;
  if (!me || ev.id !== me.id || ev.version <= me.version) return;
  me.waitlist_positions = ev.waitlist_positions;
  renderStudent();
  // A promotion or a drop: read the record again (cheap: ETag), and the rows' buttons.
  clearTimeout(studentRefresh);
  studentRefresh = setTimeout(() => loadStudent().then(updateRowActions).catch(() => {}), 50);
}
