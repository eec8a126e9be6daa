// Signing in and out. A token says whose it is (GET /api/v1/me): a student's, or the
// admin's, who may act for a student named at sign-in. Signing in reads and draws what
// that person sees and starts the live events; the token (and an admin's student) is
// kept in localStorage so a reload stays signed in. Signing out forgets all of it.

import { HttpError, fetchMe, newSession } from "./api.js";
import { $ } from "./dom.js";
import { connectEvents, disconnectEvents } from "./events.js";
import { loadLog } from "./log.js";
import { say } from "./message.js";
import { loadSections, loadStudent } from "./reads.js";
import { STORE_STUDENT, STORE_TOKEN, state } from "./state.js";

export async function signIn(token, student) {
  state.token = token;
  state.student = student || null;
  disconnectEvents();
  state.cache.clear();
  state.byId.clear();
  state.list = { ids: [], next: null, query: "", loaded: false };
  state.me = null;
  state.notes.clear();
  // Whose token is this? The token says: a student's, or the admin's.
  const me = await fetchMe();
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

export function signOut(clearMessage = true) {
  localStorage.removeItem(STORE_TOKEN);
  localStorage.removeItem(STORE_STUDENT);
  disconnectEvents();
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

// The views this person may use: the schedule with a student, the admin view for the
// admin.
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
