// The page where a student is looking: signing in makes no console errors (no probing
// of admin-only endpoints, an icon where browsers look for one) and scrolls nothing;
// an answer to a click far down a long list shows in the viewport, on the row clicked
// and in a message announced to screen readers.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { api, startBrowser, startServer } from "./harness.js";

const TEST_MS = 30_000;
/** Enough sections that the last rows sit far below the first screen. */
const SECTIONS = 60;
const FAR = `ZOOL-${SECTIONS}-1`;

let server;
let browser;
const tokens = {};

before(async () => {
  server = await startServer();
  const admin = api(server.url, server.adminToken);
  const sections = Array.from({ length: SECTIONS }, (_, i) => ({
    type: "create_section", section: i + 1 === SECTIONS ? FAR : `GEN-${i + 1}-1`, title: `General studies ${i + 1}`,
    units: 4, capacity: i + 1 === SECTIONS ? 1 : 30, waitlist_capacity: 0,
    meetings: [{ days: "MW", start: "08:00", end: "08:50" }],
  }));
  const students = ["s0001", "s0002"].map((student) => ({ type: "create_student", student, name: `Student ${student}` }));
  const created = await admin.run(...sections, ...students);
  assert.ok(created.every((o) => o.type === "created"), JSON.stringify(created));
  for (const student of ["s0001", "s0002"]) tokens[student] = (await admin.post("/api/v1/tokens", { student })).token;
  // The far section's one seat is taken: enrolling there is refused.
  const [taken] = await api(server.url, tokens.s0002).run({ type: "enroll", student: "s0002", section: FAR, waitlist: false });
  assert.equal(taken.type, "enrolled");
  browser = await startBrowser();
}, { timeout: 60_000 });

after(async () => {
  await browser?.stop();
  await server?.stop();
}, { timeout: 30_000 });

/** Everything the page logs as an error, and every answer of 400 or more. */
function watchErrors(page) {
  const seen = [];
  page.on("console", (m) => { if (m.type() === "error") seen.push(`console: ${m.text()}`); });
  page.on("pageerror", (e) => seen.push(`page error: ${e.message}`));
  page.on("response", (r) => { if (r.status() >= 400) seen.push(`${r.status()} ${new URL(r.url()).pathname}`); });
  return seen;
}

/** Where an element is, against the viewport. */
const inViewport = (page, selector) => page.locator(selector).evaluate((el) => {
  const r = el.getBoundingClientRect();
  return { top: r.top, bottom: r.bottom, height: r.height, inside: r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight };
});

let ada;

test("sign in with a token alone: no console errors, nothing scrolled, an icon", { timeout: TEST_MS }, async () => {
  ada = await browser.newPage({ width: 1000, height: 700 });
  const errors = watchErrors(ada);
  const asked = [];
  ada.on("request", (r) => asked.push(new URL(r.url()).pathname));
  await ada.goto(server.url + "/");
  await ada.getByLabel("Token").fill(tokens.s0001);
  await ada.getByRole("button", { name: "Sign in" }).click();
  await ada.locator("#who", { hasText: "Signed in as s0001" }).waitFor();
  await ada.locator("#message", { hasText: "Welcome, Student s0001." }).waitFor();
  await ada.locator("#live.on").waitFor();

  assert.deepEqual(errors, [], "a student's sign-in logs no errors");
  assert.ok(asked.includes("/auth/token"), `the page asks whose the token is: ${asked}`);
  assert.ok(!asked.includes("/api/v1/log"), `and probes nothing admin-only: ${asked}`);
  assert.equal(await ada.evaluate(() => window.scrollY), 0, "the header stays in view");
  assert.ok((await inViewport(ada, "header.top")).inside);

  // Browsers ask /favicon.ico on their own; the page names it too.
  assert.equal(await ada.locator('link[rel="icon"]').getAttribute("href"), "/favicon.ico");
  const icon = await ada.evaluate(async () => {
    const r = await fetch("/favicon.ico");
    return { status: r.status, type: r.headers.get("content-type"), body: await r.text() };
  });
  assert.equal(icon.status, 200);
  assert.equal(icon.type, "image/svg+xml");
  assert.ok(icon.body.startsWith("<svg"), icon.body);
});

test("a refusal after a click far down the list shows in the viewport, on the row and in an announced message", { timeout: TEST_MS }, async () => {
  const row = ada.locator(`#sections-body tr[data-id="${FAR}"]`);
  // Numbers in ids sort as numbers, so GEN-2-1 comes before GEN-10-1.
  const ids = await ada.locator("#sections-body tr").evaluateAll((rows) => rows.map((r) => r.dataset.id));
  assert.deepEqual(ids.slice(0, 3), ["GEN-1-1", "GEN-2-1", "GEN-3-1"]);
  assert.equal(ids.at(-1), FAR);

  await row.getByRole("button", { name: `Enroll: ${FAR}` }).click();
  // FAR has no waitlist, so the sentence offers none.
  const sentence = `${FAR} is full, and it has no waitlist.`;
  await ada.locator("#message", { hasText: sentence }).waitFor();
  assert.ok(await ada.evaluate(() => window.scrollY) > 1000, "the click was far below the top of the page");

  const message = await inViewport(ada, "#message");
  assert.ok(message.inside, `the message is in the viewport: ${JSON.stringify(message)}`);
  assert.equal(await ada.locator("#message").getAttribute("role"), "status");
  assert.equal(await ada.locator("#message").getAttribute("aria-live"), "polite");
  assert.equal(await ada.locator("#message").getAttribute("data-kind"), "refusal");

  // The row clicked says it too, and its buttons point screen readers at it.
  const note = row.locator(".row-note");
  await note.filter({ hasText: sentence }).waitFor();
  assert.ok((await inViewport(ada, `#sections-body tr[data-id="${FAR}"] .row-note`)).inside);
  const described = await row.getByRole("button", { name: `Enroll: ${FAR}` }).getAttribute("aria-describedby");
  assert.equal(await ada.locator(`[id="${described}"]`).textContent(), sentence);
});
