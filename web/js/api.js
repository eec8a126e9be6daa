// The API v1 client (see /api/v1/openapi.json): every request the page makes goes
// through here. Reads are revalidated by hand with ETags; commands are sent one at a
// time in this tab's exactly-once session, retried with the same seq when an answer
// may have been lost; a refusal of the request itself becomes an HttpError.

import { jittered, waitInLine } from "./line.js";
import { say } from "./message.js";
import { state } from "./state.js";

export class HttpError extends Error {
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

// Every request carries the sign-in cookie (same origin); no credential is in script.
// Once the student waited in line, writes carry the waiting room's pass too.
function headers(extra = {}) {
  return state.pass ? { "Murphy-Pass": state.pass, ...extra } : { ...extra };
}

// Client-side adaptive throttling (the Google SRE book's): over the last minute, the
// writes this tab wanted to send and those murphy accepted (anything but a 503); once
// murphy accepts much less than it is asked, some writes wait here instead of being
// sent, with probability max(0, (requests - K * accepts) / (requests + 1)). Below
// THROTTLE_REQUESTS_MIN writes in the window none waits: a tab asking this little
// cannot overload murphy, and with a handful of counts the formula would hold back
// half of a lone retry.
const THROTTLE_WINDOW_MS = 60_000;
const THROTTLE_REQUESTS_MIN = 20;
const THROTTLE_ACCEPTS_MULTIPLE = 2;
const throttle = { requests: [], accepts: [] };

function throttleAdmits(now) {
  for (const times of [throttle.requests, throttle.accepts]) {
    while (times.length && times[0] < now - THROTTLE_WINDOW_MS) times.shift();
  }
  const [requests, accepts] = [throttle.requests.length, throttle.accepts.length];
  const reject = requests < THROTTLE_REQUESTS_MIN ? 0
    : Math.max(0, (requests - THROTTLE_ACCEPTS_MULTIPLE * accepts) / (requests + 1));
  throttle.requests.push(now);
  return Math.random() >= reject;
}

// Signs in with a token: murphy answers who it is and sets the HttpOnly sign-in cookie.
export async function signInWithToken(token) {
  const res = await fetch("/auth/token", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ token }),
    cache: "no-store",
  });
  if (!res.ok) throw await problemOf(res);
  return res.json();
}

// Clears the sign-in cookie.
export async function signOutOfServer() {
  try { await fetch("/auth/sign-out", { method: "POST", cache: "no-store" }); } catch { /* offline: it expires */ }
}

// The ways to sign in this murphy offers, and what this browser's sign-in cookie holds:
// `{token: true, oidc: bool, sign_in: "none" | "signed_in" | "expired" | "invalid"}`.
export async function fetchSignInConfig() {
  const res = await fetch("/auth/config", { cache: "no-store" });
  if (!res.ok) return { token: true, oidc: false, sign_in: "none" };
  return res.json();
}

// Who the sign-in is: a student's (`student`), or the admin's (`admin: true`).
export async function fetchMe() {
  const res = await fetch("/api/v1/me", { headers: headers(), cache: "no-store" });
  if (!res.ok) throw await problemOf(res);
  return res.json();
}

// One page of the log: up to `limit` entries after LSN `after` (JSON lines).
export async function fetchLog(after, limit) {
  const res = await fetch(`/api/v1/log?after=${after}&limit=${limit}`, { headers: headers(), cache: "no-store" });
  if (!res.ok) throw await problemOf(res);
  return (await res.text()).split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

// GET with a cached copy revalidated by hand: If-None-Match with the last ETag, and a
// 304 reuses the body we kept. The browser's own cache is bypassed (no-store).
export async function cachedGet(path) {
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

export function newSession() {
  const rand = crypto.getRandomValues(new Uint8Array(12));
  const hex = Array.from(rand, (b) => b.toString(16).padStart(2, "0")).join("");
  state.session = { client: `web-${hex}`, seq: 0 };
}

// Sends commands in this tab's session. A network error or a 503 retries the SAME seq,
// so the server applies the request once even if an answer was lost; a 503 after its
// Retry-After and up to half of it again, at random. A `503 in_line` waits in line
// (line.js) and then sends the write again with the pass.
export function sendCommands(commands) {
  const run = async () => {
    const seq = state.session.seq + 1;
    const body = JSON.stringify({ client: state.session.client, seq, commands });
    const delays = [250, 500, 1000, 2000, 4000];
    for (let attempt = 0; ; attempt++) {
      if (!throttleAdmits(Date.now())) {
        if (attempt >= delays.length) {
          throw new HttpError(503, "murphy is overloaded and refused most requests lately, so this one was not sent; nothing was applied. Try again in a little while.", "throttled");
        }
        await sleep(jittered(delays[attempt]));
        continue;
      }
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
      if (res.status !== 503) throttle.accepts.push(Date.now());
      if (res.status === 503) {
        const problem = await res.json().catch(() => ({}));
        if (problem.code === "in_line" && problem.line) {
          if (!await waitInLine(problem.line)) throw new HttpError(503, problem.detail, problem.code);
          attempt = -1; // admitted: a fresh start, with the pass
          continue;
        }
        if (attempt < delays.length) {
          const after = Number(res.headers.get("Retry-After")) || 0;
          await sleep(jittered(Math.max(after * 1000, delays[attempt])));
          continue;
        }
        throw new HttpError(503, problem.detail || "murphy is overloaded; nothing was applied. Try again in a little while.", problem.code);
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
