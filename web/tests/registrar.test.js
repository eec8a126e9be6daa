// The registrar's rules on the page, in a real browser (Debian's Chromium through
// playwright-core) against the real murphy server: enrolling in a lecture offers its
// discussions and takes the pair; a missing prerequisite reads as a sentence; a
// permission number opens the lecture; seats held for majors show on the row; the
// admin issues permission numbers and records completions. Run: node --test web/tests/
//
// The tests share one server and run in order, each building on the one before.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { api, startBrowser, startServer } from "./harness.js";

const TEST_MS = 30_000;
const UNTIL = "2099-01-01T00:00:00Z";

let server;
let browser;
let admin;
const tokens = {};
const pages = {};

const discussion = (section, days) => ({
  section, title: "Introduction to Computer Science II, discussion", units: 0, capacity: 1, waitlist_capacity: 0,
  meetings: [{ days, start: "10:00", end: "10:50" }],
});
const SECTIONS = [
  discussion("COMSCI-32-1A", "F"),
  discussion("COMSCI-32-1B", "R"),
  { section: "COMSCI-32-1", title: "Introduction to Computer Science II", units: 4, capacity: 40, waitlist_capacity: 5,
    meetings: [{ days: "MW", start: "12:00", end: "13:50" }], prerequisites: ["COMSCI-31"],
    linked: ["COMSCI-32-1A", "COMSCI-32-1B"] },
  { section: "COMSCI-35L-3", title: "Software Construction", units: 4, capacity: 30, waitlist_capacity: 5,
    meetings: [{ days: "TR", start: "08:00", end: "09:50" }],
    reserved: [{ for: "major:COMSCI", seats: 10, until: UNTIL }] },
];
const STUDENTS = [
  { student: "s0001", name: "Ada Bruin", major: "COMSCI", standing: "sophomore", completed: ["COMSCI-31"] },
  { student: "s0002", name: "Sam Okafor", major: "HIST", standing: "freshman" },
];

before(async () => {
  server = await startServer();
  admin = api(server.url, server.adminToken);
  const created = await admin.run(
    ...SECTIONS.map((s) => ({ type: "create_section", ...s })),
    ...STUDENTS.map((s) => ({ type: "create_student", ...s })),
  );
  assert.ok(created.every((o) => o.type === "created"), JSON.stringify(created));
  for (const { student } of STUDENTS) {
    tokens[student] = (await admin.post("/api/v1/tokens", { student })).token;
  }
  browser = await startBrowser();
}, { timeout: 60_000 });

after(async () => {
  await browser?.stop();
  await server?.stop();
}, { timeout: 30_000 });

const row = (page, id) => page.locator(`#sections-body tr[data-id="${id}"]`);

async function message(page, hasText) {
  await page.locator("#message", { hasText }).waitFor();
  return page.locator("#message").textContent();
}

async function signIn(page, token, student) {
  await page.goto(server.url + "/");
  await page.getByLabel("Token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("#who", { hasText: `Signed in as ${student}` }).waitFor();
  await page.locator("#sections-body tr").first().waitFor();
  await page.locator("#live.on").waitFor();
}

test("enrolling in a lecture offers its discussions, and takes the pair", { timeout: TEST_MS }, async () => {
  const page = await browser.newPage();
  pages.ada = page;
  await signIn(page, tokens.s0001, "s0001");
  await row(page, "COMSCI-32-1").locator(".rules", { hasText: "With a discussion or lab: COMSCI-32-1A, COMSCI-32-1B" }).waitFor();
  await row(page, "COMSCI-32-1").locator(".rules", { hasText: "Requires COMSCI-31" }).waitFor();
  await row(page, "COMSCI-32-1A").locator(".rules", { hasText: "Taken with COMSCI-32-1" }).waitFor();

  await row(page, "COMSCI-32-1").getByRole("button", { name: "Enroll: COMSCI-32-1" }).click();
  const offer = row(page, "COMSCI-32-1").getByRole("group", { name: "Choose a discussion or lab to take with COMSCI-32-1" });
  await offer.waitFor();
  const choices = await offer.getByRole("button").evaluateAll((bs) => bs.map((b) => b.getAttribute("aria-label") || b.textContent));
  assert.deepEqual(choices.slice(0, 2), ["Enroll in COMSCI-32-1 with COMSCI-32-1A", "Enroll in COMSCI-32-1 with COMSCI-32-1B"]);
  assert.ok(await offer.getByRole("button", { name: "Enroll in COMSCI-32-1 with COMSCI-32-1A" }).evaluate((b) => b === document.activeElement),
    "the keyboard lands on the first choice");

  await offer.getByRole("button", { name: "Enroll in COMSCI-32-1 with COMSCI-32-1A" }).click();
  await message(page, "You are enrolled in COMSCI-32-1 with COMSCI-32-1A.");
  await row(page, "COMSCI-32-1").locator(".tag", { hasText: "Enrolled" }).waitFor();
  await row(page, "COMSCI-32-1A").locator(".tag", { hasText: "Enrolled, with COMSCI-32-1" }).waitFor();
  await row(page, "COMSCI-32-1A").locator(".seats", { hasText: "1 / 1" }).waitFor();
  await page.locator("#enrolled-list li", { hasText: "COMSCI-32-1 with COMSCI-32-1A" }).waitFor();
  const record = await admin.get("/api/v1/students/s0001");
  assert.deepEqual(record.enrolled, ["COMSCI-32-1", "COMSCI-32-1A"]);
});

test("a missing prerequisite is refused as a sentence, from the discussion's own row", { timeout: TEST_MS }, async () => {
  const page = await browser.newPage();
  pages.sam = page;
  await signIn(page, tokens.s0002, "s0002");
  // From the discussion's own row: the pair is asked for with its lecture.
  await row(page, "COMSCI-32-1B").getByRole("button", { name: "Enroll in COMSCI-32-1 with COMSCI-32-1B" }).click();
  const said = await message(page, "requires COMSCI-31");
  assert.equal(said, "COMSCI-32-1 requires COMSCI-31, which is not on your record as completed. The registrar can give you a permission number.");
  assert.equal(await page.locator("#message").getAttribute("data-kind"), "refusal");
  assert.equal(await admin.get("/api/v1/sections/COMSCI-32-1").then((s) => s.enrolled), 1, "nothing taken");
});

test("the registrar issues a permission number on the admin page; it opens the lecture once", { timeout: TEST_MS }, async () => {
  const adminPage = await browser.newPage();
  await signIn(adminPage, server.adminToken, "admin");
  await adminPage.locator("#issue-student").fill("s0002");
  await adminPage.getByLabel("For section").fill("COMSCI-32-1");
  await adminPage.getByRole("button", { name: "Issue" }).click();
  const said = await message(adminPage, "Permission number");
  const code = said.match(/Permission number (\S+):/)[1];
  await adminPage.locator("#issue-code", { hasText: code }).waitFor();
  await adminPage.locator("#log-body tr", { hasText: `The registrar issued permission number ${code} to s0002 for COMSCI-32-1.` }).waitFor();

  const page = pages.sam;
  await page.getByRole("button", { name: "Refresh" }).click();
  await page.locator("#st-permissions", { hasText: `${code} for COMSCI-32-1 (not used yet)` }).waitFor();
  await page.getByLabel("Section to enroll in").fill("COMSCI-32-1");
  await page.locator("#perm-with").fill("COMSCI-32-1A");
  await page.getByLabel("Permission number").fill(code);
  await page.locator("#permission-form").getByRole("button", { name: "Enroll" }).click();
  await message(page, "COMSCI-32-1 with COMSCI-32-1A is full. A permission number never adds a seat.");
  await page.locator("#perm-with").fill("COMSCI-32-1B");
  // A wrong code is refused as a sentence, and uses nothing.
  await page.getByLabel("Permission number").fill("not-the-code");
  await page.locator("#permission-form").getByRole("button", { name: "Enroll" }).click();
  await message(page, "That permission number does not open COMSCI-32-1 for you: it is someone else's, for another section, or already used.");
  await page.getByLabel("Permission number").fill(code);
  await page.locator("#permission-form").getByRole("button", { name: "Enroll" }).click();
  await message(page, `You are enrolled in COMSCI-32-1 with COMSCI-32-1B. Your permission number ${code} is used.`);
  await page.locator("#st-permissions", { hasText: `${code} for COMSCI-32-1 (used)` }).waitFor();

  // Dropping the lecture drops its discussion with it.
  await page.locator("#enrolled-list").getByRole("button", { name: "Drop: COMSCI-32-1" }).click();
  await message(page, "You dropped COMSCI-32-1, and COMSCI-32-1B with it.");
  assert.deepEqual((await admin.get("/api/v1/students/s0002")).enrolled, []);
});

test("seats held for majors show on the row; others are told until when", { timeout: TEST_MS }, async () => {
  // 20 unreserved seats, taken by others over the API.
  const others = Array.from({ length: 20 }, (_, i) => `o${String(i).padStart(2, "0")}`);
  await admin.run(...others.map((student) => ({ type: "create_student", student, name: "Other" })));
  const taken = await admin.run(...others.map((student) => ({ type: "enroll", student, section: "COMSCI-35L-3" })));
  assert.ok(taken.every((o) => o.type === "enrolled"), JSON.stringify(taken));
  const page = pages.sam;
  await row(page, "COMSCI-35L-3").locator(".seats", { hasText: "20 / 30 (10 held)" }).waitFor();
  await row(page, "COMSCI-35L-3").locator(".rules", { hasText: "10 seats for major COMSCI" }).waitFor();
  await row(page, "COMSCI-35L-3").getByRole("button", { name: "Enroll: COMSCI-35L-3" }).click();
  await message(page, "The seats left in COMSCI-35L-3 are reserved until");
  // A COMSCI major takes one of them.
  await row(pages.ada, "COMSCI-35L-3").getByRole("button", { name: "Enroll: COMSCI-35L-3" }).click();
  await message(pages.ada, "You are enrolled in COMSCI-35L-3.");
  await row(page, "COMSCI-35L-3").locator(".seats", { hasText: "21 / 30 (9 held)" }).waitFor();
});

test("the admin records a completed course", { timeout: TEST_MS }, async () => {
  const page = await browser.newPage();
  await page.goto(server.url + "/");
  await page.getByLabel("Token").fill(server.adminToken);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("#who", { hasText: "Signed in as admin" }).waitFor();
  await page.locator("#done-student").fill("s0002");
  await page.getByLabel("Course").fill("COMSCI-31");
  await page.getByRole("button", { name: "Record" }).click();
  await message(page, "COMSCI-31 is now on s0002's record as completed.");
  assert.deepEqual((await admin.get("/api/v1/students/s0002")).completed, ["COMSCI-31"]);
});
