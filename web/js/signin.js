// Signing in and out. A token is exchanged for murphy's HttpOnly sign-in cookie (POST
// /auth/token), or the university's identity provider signs the student in (/auth/oidc)
// and murphy sets the same cookie; the page never holds a credential. The cookie says
// whose sign-in it is (GET /api/v1/me): a student's, or the admin's, who may act for a
// student named at sign-in (remembered in localStorage: an id, not a secret). Signing
// in reads and draws what that person sees and starts the live events; a reload stays
// signed in through the cookie. Signing out clears the cookie and forgets the rest.

import { HttpError, fetchMe, newSession, signInWithToken, signOutOfServer } from "./api.js";
import { $ } from "./dom.js";
import { connectEvents, disconnectEvents } from "./events.js";
import { loadLog } from "./log.js";
import { say } from "./message.js";
import { loadSections, loadStudent } from "./reads.js";
import { STORE_STUDENT, state } from "./state.js";

// Signs in with `token`, or (none) resumes the sign-in the cookie holds.
export async function signIn(token, student) {
  state.student = student || null;
  disconnectEvents();
  state.cache.clear();
  state.byId.clear();
  state.list = { ids: [], next: null, query: "", loaded: false };
  state.me = null;
  state.notes.clear();
  // Whose sign-in is this? murphy says: a student's, or the admin's.
  const me = token ? await signInWithToken(token) : await fetchMe();
  state.admin = me.admin === true;
  if (!state.admin) {
    if (student && student !== me.student) {
      await signOutOfServer();
      throw new HttpError(403, `That token belongs to ${me.student}, not to ${student}. Leave the student id empty to sign in as ${me.student}.`);
    }
    state.student = me.student;
  }
  if (state.student) await loadStudent();
  newSession();
  state.pass = null; // a pass is its student's alone
  // Only an admin acting for a student needs the id kept; a student's token says it.
  if (state.admin && state.student) localStorage.setItem(STORE_STUDENT, state.student);
  else localStorage.removeItem(STORE_STUDENT);
  showApp();
  await loadSections();
  connectEvents();
  if (state.admin) loadLog();
}

export function signOut(clearMessage = true) {
  signOutOfServer();
  localStorage.removeItem(STORE_STUDENT);
  disconnectEvents();
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
