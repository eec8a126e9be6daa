// Live seat counts over Server-Sent Events (/api/v1/events): each section event
// patches its row in place, a section not seen yet reads the catalog again, and an
// event about one of the student's sections reads their record again (a promotion
// from a waitlist, say). The "Live" badge says whether the stream is up.

import { $ } from "./dom.js";
import { loadSections, loadStudent } from "./reads.js";
import { updateRow, updateRowActions } from "./sections.js";
import { state } from "./state.js";

// The pending read of the student's record: a burst of events reads it once.
let studentRefresh = null;

export function connectEvents() {
  if (state.events) state.events.close();
  // Same origin: the sign-in cookie goes along; no credential in the URL.
  const es = new EventSource("/api/v1/events");
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
