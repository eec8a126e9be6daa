// Reading what murphy holds into the page: the catalog and the signed-in student's
// record (through the ETag cache), drawn when they changed; `refresh` reads everything
// the page shows again, after a command or when asked.

import { cachedGet } from "./api.js";
import { loadLog } from "./log.js";
import { renderStudent } from "./schedule.js";
import { renderSections, updateRowActions } from "./sections.js";
import { state } from "./state.js";

export async function loadSections() {
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

export async function loadStudent() {
  if (!state.student) return;
  const { body } = await cachedGet(`/api/v1/students/${encodeURIComponent(state.student)}`);
  state.me = body;
  state.lastLsn = Math.max(state.lastLsn, body.version);
  renderStudent();
}

export async function refresh() {
  const jobs = [loadSections()];
  if (state.student) jobs.push(loadStudent());
  if (state.admin) jobs.push(loadLog());
  await Promise.all(jobs);
  updateRowActions();
}
