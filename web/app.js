// The murphy web page's entry: plain ES modules under js/, no build step, no
// dependencies. It wires every control of the page to what it does, then signs in
// again with the token a reload kept, or shows the sign-in form.
//
// The modules under js/, lowest first: each imports only modules above it here.
//   state.js          the state every module shares
//   dom.js            element builders (a button that names its section, ...)
//   words.js          a sentence for every outcome; money, instants, meetings
//   log-words.js      a sentence for every log entry
//   message.js        the message: beside its cause or in view, dismissed or gone
//   api.js            the API v1 client: ETag cache, the exactly-once session
//   schedule.js       the student's schedule, balance and week drawn
//   sections.js       the sections list drawn, and the answers kept on its rows
//   log.js            the log's tail read and drawn (admin)
//   reads.js          the catalog and the student read into the page
//   events.js         live seat counts (Server-Sent Events)
//   signin.js         signing in and out
//   act.js            a command sent and its answer said; errors
//   sections-controls.js, schedule-controls.js, admin-controls.js: the views' controls

import { handleError } from "./js/act.js";
import { HttpError } from "./js/api.js";
import { wireAdmin } from "./js/admin-controls.js";
import { $ } from "./js/dom.js";
import { say, sayNear, wireMessage } from "./js/message.js";
import { wireSchedule } from "./js/schedule-controls.js";
import { wireSections } from "./js/sections-controls.js";
import { signIn, signOut } from "./js/signin.js";
import { STORE_STUDENT, STORE_TOKEN, state } from "./js/state.js";

wireMessage();
wireSections();
wireSchedule();
wireAdmin();
wireSignIn();
$("signout").addEventListener("click", () => signOut());
start();

function wireSignIn() {
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
      // Said under the form, and the token left as typed, to correct it.
      if (e instanceof HttpError) sayNear($("signin-form"), e.message, "error");
      else handleError(e);
    } finally {
      if (b) b.disabled = false;
    }
  });
}

// A reload stays signed in: the token kept in localStorage signs in again.
async function start() {
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
}
