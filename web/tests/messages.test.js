// Where the page says things, and for how long: an answer shows next to what caused it
// (a section's row, the sign-in form), on a phone never over the search box or the
// filter; it can be dismissed, good news goes by itself, and an old refusal goes at
// the next click. And what the student reads: a meeting's time range whole on one
// line, the course's title in the week's blocks, the search said back as typed.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { api, startBrowser, startServer } from "./harness.js";

const TEST_MS = 30_000;
const FULL = "COMSCI-31-1";

let server;
let browser;
const tokens = {};

before(async () => {
  server = await startServer();
  const admin = api(server.url, server.adminToken);
  const section = (id, title, capacity, days, start, end) => ({
    type: "create_section", section: id, title, units: 4, capacity, waitlist_capacity: 0,
    meetings: [{ days, start, end }],
  });
  const filler = Array.from({ length: 20 }, (_, i) => section(`GEN-${i + 1}-1`, `General studies ${i + 1}`, 30, "TR", "16:00", "16:50"));
  const created = await admin.run(
    section(FULL, "Introduction to Computer Science I", 1, "MWF", "09:00", "09:50"),
    section("ENGL-3-1", "English Composition, Rhetoric, and Language", 30, "TR", "10:00", "11:50"),
    ...filler,
    { type: "create_student", student: "s0001", name: "Ada" },
    { type: "create_student", student: "s0002", name: "Bo" },
  );
  assert.ok(created.every((o) => o.type === "created"), JSON.stringify(created));
  for (const student of ["s0001", "s0002"]) tokens[student] = (await admin.post("/api/v1/tokens", { student })).token;
  const [taken] = await api(server.url, tokens.s0002).run({ type: "enroll", student: "s0002", section: FULL, waitlist: false });
  assert.equal(taken.type, "enrolled");
  const [enrolled] = await api(server.url, tokens.s0001).run({ type: "enroll", student: "s0001", section: "ENGL-3-1", waitlist: false });
  assert.equal(enrolled.type, "enrolled");
  browser = await startBrowser();
}, { timeout: 60_000 });

after(async () => {
  await browser?.stop();
  await server?.stop();
}, { timeout: 30_000 });

const rect = (page, selector) => page.locator(selector).first().evaluate((el) => {
  const r = el.getBoundingClientRect();
  return { top: r.top, bottom: r.bottom, left: r.left, right: r.right, height: r.height };
});
const overlaps = (a, b) => a.height > 1 && b.height > 1
  && a.top < b.bottom && b.top < a.bottom && a.left < b.right && b.left < a.right;
const messageText = (page) => page.locator("#message").textContent();

let phone;

test("a bad token is said under the sign-in form, and the token stays to be corrected", { timeout: TEST_MS }, async () => {
  phone = await browser.newPage({ width: 390, height: 844 });
  await phone.goto(server.url + "/");
  await phone.getByLabel("Token").fill("mst_not-a-token");
  await phone.getByRole("button", { name: "Sign in" }).click();
  const note = phone.locator("#signin-form .form-note");
  await note.filter({ hasText: "token" }).waitFor();
  assert.equal(await note.getAttribute("data-kind"), "error");
  assert.equal(await phone.getByLabel("Token").inputValue(), "mst_not-a-token", "the field is not emptied");
  const form = await rect(phone, "#signin-form");
  const said = await rect(phone, "#signin-form .form-note");
  assert.ok(said.top >= form.top && said.bottom <= form.bottom, "the error is inside the form it is about");
  assert.equal(await phone.locator("#message").getAttribute("role"), "status", "and announced");
});

test("good news goes by itself", { timeout: TEST_MS }, async () => {
  await phone.getByLabel("Token").fill(tokens.s0001);
  await phone.getByRole("button", { name: "Sign in" }).click();
  await phone.locator("#message", { hasText: "Welcome, Ada." }).waitFor();
  assert.equal(await phone.locator("#signin-form .form-note").textContent(), "", "the old error went");
  await phone.waitForFunction(() => document.getElementById("message").textContent === "", null, { timeout: 9000 });
});

test("on a phone a refusal shows on its row, never over the search box or the filter", { timeout: TEST_MS }, async () => {
  await phone.locator('a[href="#sections-view"]').click();
  await phone.getByLabel("Search sections").fill("ComSci");
  await phone.locator("#sections-count", { hasText: "1 section matches “ComSci”." }).waitFor();
  await phone.getByRole("button", { name: `Enroll: ${FULL}` }).click();
  const sentence = `${FULL} is full, and it has no waitlist.`;
  await phone.locator(`#sections-body tr[data-id="${FULL}"] .row-note`, { hasText: sentence }).waitFor();
  await phone.locator("#message", { hasText: sentence }).waitFor();
  assert.equal(await phone.locator("#message").getAttribute("data-kind"), "refusal");
  const box = await rect(phone, "#message-box");
  for (const covered of ["#search", "#open-only", `#sections-body tr[data-id="${FULL}"]`]) {
    assert.ok(!overlaps(box, await rect(phone, covered)), `the message is not over ${covered}: ${JSON.stringify(box)}`);
  }
  // Nor while the student types into the search box: nothing floats then.
  await phone.getByRole("button", { name: "Refresh" }).click();
  await phone.locator("#message", { hasText: "Up to date." }).waitFor();
  await phone.getByLabel("Search sections").focus();
  assert.ok(!overlaps(await rect(phone, "#message-box"), await rect(phone, "#search")));
});

test("a refusal is dismissed, or goes at the next click, which says its own answer", { timeout: TEST_MS }, async () => {
  const desk = await browser.newPage({ width: 1200, height: 860 });
  await desk.goto(server.url + "/");
  await desk.getByLabel("Token").fill(tokens.s0001);
  await desk.getByRole("button", { name: "Sign in" }).click();
  await desk.locator("#who", { hasText: "Signed in as s0001" }).waitFor();
  await desk.getByRole("button", { name: `Enroll: ${FULL}` }).click();
  await desk.locator("#message", { hasText: "is full" }).waitFor();
  // On a wide screen the message floats in view, with its button.
  assert.ok((await rect(desk, "#message-box")).height > 10);
  await desk.getByRole("button", { name: "Dismiss the message" }).click();
  assert.equal(await messageText(desk), "");
  assert.ok(await desk.locator(`#sections-body tr[data-id="${FULL}"] .row-note`, { hasText: "is full" }).isVisible(),
    "the row keeps its answer");

  await desk.getByRole("button", { name: `Enroll: ${FULL}` }).click();
  await desk.locator("#message", { hasText: "is full" }).waitFor();
  await desk.getByRole("button", { name: "Refresh" }).click();
  await desk.locator("#message", { hasText: "Up to date." }).waitFor();
  assert.equal(await desk.locator("#message").getAttribute("data-kind"), "info");

  // The week's block names the course, and a time range never breaks in two.
  await desk.locator("#week .block .title", { hasText: "English Composition, Rhetoric, and Language" }).first().waitFor();
  const lines = await desk.locator(`#sections-body tr[data-id="${FULL}"] td[data-label="Meets"]`).evaluate((cell) => {
    cell.style.width = "5.5rem";
    cell.style.display = "inline-block";
    const text = cell.firstChild && cell.firstChild.nodeType === Node.TEXT_NODE ? cell.firstChild : cell.querySelector("*").firstChild;
    const from = text.textContent.indexOf("09:00");
    const range = document.createRange();
    range.setStart(text, from);
    range.setEnd(text, text.textContent.indexOf("09:50") + 5);
    return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
  });
  assert.equal(lines, 1, "09:00–09:50 on one line");
});
