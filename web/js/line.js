// The waiting room: while a registration window holds this student in line, a write is
// answered `503 in_line` with their place. The page then shows the place and about how
// long ("You are 4,213th in line; about 3 to 5 minutes") above the sections, whose seats
// stay live; asks murphy again when it says to (`next_poll_after_s`, with jitter); and
// once admitted sends the write again with the pass, without a reload.

import { $ } from "./dom.js";
import { state } from "./state.js";
import { lineWords } from "./words.js";

// How long to keep asking before giving the write up: an hour, as murphy's CLI does.
const LINE_WAIT_MAX_MS = 3_600_000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// `ms` and up to half of it again, at random: students told together do not ask together.
export function jittered(ms) {
  return ms + Math.random() * ms / 2;
}

async function lineCall(method) {
  const headers = state.pass ? { "Murphy-Pass": state.pass } : {};
  const init = { method, cache: "no-store", headers };
  if (method === "POST") {
    init.headers = { ...headers, "Content-Type": "application/json" };
    init.body = "{}";
  }
  const res = await fetch("/api/v1/line", init);
  if (res.status === 503) return { retryAfterS: Number(res.headers.get("Retry-After")) || 1 };
  if (!res.ok) throw new Error(`murphy answered ${res.status} when asked for the place in line`);
  return { line: await res.json() };
}

function show(line) {
  $("line-view").hidden = false;
  $("line-place").textContent = lineWords(line);
  $("line-place").dataset.state = line.state;
}

// Waits in line from `line` (the `in_line` problem's) until admitted or the window
// closes; keeps the pass for the writes after. Resolves false when it gave up.
export async function waitInLine(line) {
  const deadline = Date.now() + LINE_WAIT_MAX_MS;
  try {
    for (;;) {
      if (line.pass) state.pass = line.pass;
      show(line);
      if (line.state === "admitted" || line.state === "closed") return true;
      let wait = jittered((line.next_poll_after_s || 1) * 1000);
      if (Date.now() + wait > deadline) return false;
      if (line.state !== "out") await sleep(wait);
      const answer = await lineCall(line.state === "out" ? "POST" : "GET");
      if (answer.line) {
        line = answer.line;
      } else {
        wait = jittered(answer.retryAfterS * 1000);
        await sleep(wait);
      }
    }
  } finally {
    $("line-view").hidden = true;
  }
}
