// Reading what murphy holds into the page, through the ETag cache: the sections list a
// page at a time (the server searches and filters; each page revalidates on its own),
// the signed-in student's record and their own sections, drawn when they changed;
// `refresh` reads everything the page shows again, after a command or when asked.

import { cachedGet } from "./api.js";
import { loadLog } from "./log.js";
import { renderStudent } from "./schedule.js";
import { appendRows, renderSections, updateRowActions } from "./sections.js";
import { state } from "./state.js";

// Sections a page of the list holds: a screenful or two, drawn in a few milliseconds.
export const PAGE_SECTIONS = 100;

// The query of the list's pages: the search box's words and "only with free seats".
function listPath(cursor) {
  const params = new URLSearchParams({ limit: String(PAGE_SECTIONS) });
  const words = document.getElementById("search").value.trim();
  if (words) params.set("q", words);
  if (document.getElementById("open-only").checked) params.set("open", "true");
  if (cursor) params.set("cursor", cursor);
  return `/api/v1/sections?${params}`;
}

function keep(sections) {
  for (const s of sections) {
    const known = state.byId.get(s.id);
    // A live event may already have told us something newer.
    if (!known || known.version <= s.version) state.byId.set(s.id, s);
  }
}

// The list's first page for the search as it is now; a newer search started while
// this one was read wins.
export async function loadSections() {
  const path = listPath(null);
  state.list.query = path;
  const { body } = await cachedGet(path);
  if (state.list.query !== path) return;
  keep(body.sections);
  state.list = { ids: body.sections.map((s) => s.id), next: body.next || null, query: path, loaded: true };
  renderSections();
  state.lastLsn = Math.max(state.lastLsn, body.version);
}

// The next page of the list, appended (scrolling reached its end).
let more = null;
export function loadMore() {
  if (more || !state.list.next) return more;
  const path = listPath(state.list.next);
  const query = state.list.query;
  more = cachedGet(path).then(({ body }) => {
    if (state.list.query !== query) return;
    keep(body.sections);
    const fresh = body.sections.map((s) => s.id).filter((id) => !state.list.ids.includes(id));
    state.list.ids.push(...fresh);
    state.list.next = body.next || null;
    appendRows(fresh);
  }).finally(() => { more = null; });
  return more;
}

// Every page read so far, again: each answers 304 unless a section on it changed.
async function refreshList() {
  const query = state.list.query;
  const ids = [];
  let cursor = null;
  let next = null;
  do {
    const { body } = await cachedGet(listPath(cursor));
    if (state.list.query !== query) return;
    keep(body.sections);
    ids.push(...body.sections.map((s) => s.id));
    next = body.next || null;
    cursor = next;
  } while (cursor && ids.length < state.list.ids.length);
  state.list = { ids, next, query, loaded: true };
  renderSections();
}

// The student's own sections (their titles, meetings and lines), each revalidated.
async function loadOwnSections() {
  const me = state.me;
  if (!me) return;
  const own = new Set([...me.enrolled, ...me.waitlisted, ...Object.values(me.waitlisted_with || {})]);
  await Promise.all([...own].map(async (id) => {
    const { body } = await cachedGet(`/api/v1/sections/${encodeURIComponent(id)}`);
    keep([body]);
  }));
}

export async function loadStudent() {
  if (!state.student) return;
  const { body } = await cachedGet(`/api/v1/students/${encodeURIComponent(state.student)}`);
  state.me = body;
  state.lastLsn = Math.max(state.lastLsn, body.version);
  await loadOwnSections();
  renderStudent();
}

export async function refresh() {
  const jobs = [state.list.loaded ? refreshList() : loadSections()];
  if (state.student) jobs.push(loadStudent());
  if (state.admin) jobs.push(loadLog());
  await Promise.all(jobs);
  updateRowActions();
}
