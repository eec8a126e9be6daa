// The murphy web page's entry: plain ES modules under js/, no build step, no
// dependencies. It wires every control of the page to what it does, then resumes the
// sign-in its cookie holds, or shows the ways to sign in.
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
//   reads.js          the list's pages and the student read into the page
//   events.js         live values of the rows in view and the student's own (SSE)
//   signin.js         signing in and out
//   act.js            a command sent and its answer said; errors
//   sections-controls.js, schedule-controls.js, admin-controls.js: the views' controls

import { handleError } from "./js/act.js";
import { fetchSignInConfig, HttpError } from "./js/api.js";
import { wireAdmin } from "./js/admin-controls.js";
import { $ } from "./js/dom.js";
import { wireEvents } from "./js/events.js";
import { say, sayNear, wireMessage } from "./js/message.js";
import { wireSchedule } from "./js/schedule-controls.js";
import { wireSections } from "./js/sections-controls.js";
import { signIn, signOut } from "./js/signin.js";
import { STORE_STUDENT, state } from "./js/state.js";

wireMessage();
wireSections();
wireSchedule();
wireAdmin();
wireEvents();
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
      // Said under the form, and the token left as typed, to correct it.
      if (e instanceof HttpError) sayNear($("signin-form"), e.message, "error");
      else handleError(e);
    } finally {
      if (b) b.disabled = false;
    }
  });
}

// Why the identity provider's sign-in came back without one (`/?signin=CODE`).
const SIGN_IN_FAILURES = {
  unknown_student: "You signed in at the university, but the registrar has no student record for you here yet. Ask the registrar.",
  expired: "That sign-in took too long or was started in another window. Sign in again.",
  refused: "The university's sign-in was cancelled or refused.",
  no_student_claim: "The university's sign-in did not say which student you are. Ask the registrar.",
  provider: "The university's sign-in did not work just now. Try again, or sign in with a token.",
};

// A reload stays signed in: murphy says whether the sign-in cookie (which the script
// cannot read) holds a sign-in, and it is resumed. Without one, the ways to sign in.
async function start() {
  const params = new URLSearchParams(location.search);
  const failure = params.get("signin");
  if (failure !== null) history.replaceState(null, "", location.pathname + location.hash);
  const student = localStorage.getItem(STORE_STUDENT);
  if (student) $("signin-student").value = student;
  const config = await fetchSignInConfig().catch(() => ({ oidc: false, sign_in: "none" }));
  $("signin-oidc").hidden = !config.oidc;
  if (config.sign_in !== "signed_in") {
    $("signin-view").hidden = false;
    if (failure !== null) say(SIGN_IN_FAILURES[failure] || SIGN_IN_FAILURES.provider, "error");
    else if (config.sign_in === "expired") say("Your sign-in has expired; sign in again.", "error");
    else if (config.sign_in === "invalid") say("Your sign-in was not made by this murphy, or was changed; sign in again.", "error");
    return;
  }
  try {
    await signIn(null, student);
  } catch (e) {
    signOut(false);
    if (student) $("signin-student").value = student;
    handleError(e);
  }
}
