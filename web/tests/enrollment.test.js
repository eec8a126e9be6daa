// End-to-end tests of the web page in a real browser (Debian's Chromium through
// playwright-core) against the real murphy server. Run: node --test web/tests/
//
// The tests share one server and run in order; each builds on the state the one
// before left (who holds which seat), as students on registration day would.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { SCREENSHOTS, api, screenshot, startBrowser, startServer } from "./harness.js";

const TEST_MS = 30_000;

let server;
let browser;
let admin;
const tokens = {};

const SECTIONS = [
  { section: "COMSCI-35L-1", title: "Software Construction", units: 4, capacity: 2, waitlist_capacity: 5,
    meetings: [{ days: "MW", start: "14:00", end: "15:50" }] },
  { section: "COMSCI-31-1", title: "Introduction to Computer Science I", units: 4, capacity: 40, waitlist_capacity: 10,
    meetings: [{ days: "TR", start: "10:00", end: "11:50" }] },
  { section: "MATH-31A-1", title: "Differential and Integral Calculus", units: 4, capacity: 30, waitlist_capacity: 5,
    meetings: [{ days: "MWF", start: "15:00", end: "15:50" }] },
  { section: "PHYSICS-1A-1", title: "Physics for Scientists and Engineers: Mechanics", units: 5, capacity: 25, waitlist_capacity: 5,
    meetings: [{ days: "MWF", start: "09:00", end: "09:50" }, { days: "R", start: "16:00", end: "16:50" }] },
  { section: "ENGCOMP-3-1", title: "English Composition, Rhetoric, and Language", units: 5, capacity: 20, waitlist_capacity: 5,
    meetings: [{ days: "TR", start: "13:00", end: "14:50" }] },
];
const STUDENTS = [
  { student: "s0001", name: "Ada Bruin" },
  { student: "s0002", name: "Sam Okafor" },
  { student: "s0003", name: "Lee Park" },
];

before(async () => {
  server = await startServer();
  admin = api(server.url, server.adminToken);
  const created = await admin.run(
    ...SECTIONS.map((s) => ({ type: "create_section", ...s })),
    ...STUDENTS.map((s) => ({ type: "create_student", ...s, max_units: 20 })),
  );
  assert.ok(created.every((o) => o.type === "created"), JSON.stringify(created));
  for (const { student } of STUDENTS) {
    tokens[student] = (await admin.post("/api/v1/tokens", { student })).token;
  }
  // Ada already has two classes, so her week is not empty.
  const pre = await api(server.url, tokens.s0001).run(
    { type: "enroll", student: "s0001", section: "COMSCI-31-1", waitlist: false },
    { type: "enroll", student: "s0001", section: "PHYSICS-1A-1", waitlist: false },
    { type: "deposit", student: "s0001", amount_cents: 125000 },
  );
  assert.deepEqual(pre.map((o) => o.type), ["enrolled", "enrolled", "balance"]);
  browser = await startBrowser();
}, { timeout: 60_000 });

after(async () => {
  await browser?.stop();
  await server?.stop();
}, { timeout: 30_000 });

// ---------- helpers ----------

const row = (page, id) => page.locator(`#sections-body tr[data-id="${id}"]`);
const seats = (page, id) => row(page, id).locator(".seats");
const waitlist = (page, id) => row(page, id).locator(".wait");

async function waitFor(page, selector, hasText) {
  await page.locator(selector, hasText === undefined ? {} : { hasText }).first().waitFor();
}

async function message(page, hasText) {
  await waitFor(page, "#message", hasText);
  return page.locator("#message").textContent();
}

// Signs in with the token alone: the page asks murphy whose it is.
async function signIn(page, token, student) {
  await page.goto(server.url + "/");
  await page.getByLabel("Token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await waitFor(page, "#who", student ? `Signed in as ${student}` : "admin");
  await waitFor(page, "#sections-body tr");
  await waitFor(page, "#live.on"); // the event stream is open
}

const pages = {};

// ---------- the flows ----------

test("sign in: a wrong token is refused in words, the right one signs in and is remembered", { timeout: TEST_MS }, async () => {
  const page = await browser.newPage();
  pages.ada = page;
  await page.goto(server.url + "/");
  await page.getByLabel("Token").waitFor();
  await screenshot(page, "sign-in");

  // Keyboard only: type, tab, type, Enter.
  await page.getByLabel("Token").focus();
  await page.keyboard.type(`mst_${"0".repeat(64)}`);
  await page.keyboard.press("Tab");
  await page.keyboard.type("s0001");
  await page.keyboard.press("Enter");
  const refused = await message(page, "token");
  assert.equal(await page.locator("#message").getAttribute("data-kind"), "error");
  assert.ok(refused.length > 20, `a sentence, not a code: ${refused}`);
  assert.ok(await page.locator("#signin-view").isVisible());

  // A student id that is not the token's own is refused, and says whose it is.
  await page.getByLabel("Token").fill(tokens.s0002);
  await page.getByRole("button", { name: "Sign in" }).click();
  await message(page, "That token belongs to s0002, not to s0001.");

  await signIn(page, tokens.s0001, "s0001");
  await message(page, "Welcome, Ada Bruin.");
  // Signing in scrolls nothing: the header stays in view.
  assert.equal(await page.evaluate(() => window.scrollY), 0);
  assert.equal(await page.locator("#st-units").textContent(), "9 of 20");
  assert.equal(await page.locator("#st-balance").textContent(), "$1,250.00");

  // The sign-in is an HttpOnly cookie, no token in reach of a script: a reload stays
  // signed in through it.
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }));
  assert.ok(!stored.includes(tokens.s0001), `no token in localStorage: ${stored}`);
  const [cookie] = (await page.context().cookies()).filter((c) => c.name === "murphy_session");
  assert.ok(cookie && cookie.httpOnly && cookie.secure && cookie.sameSite === "Strict", JSON.stringify(cookie));
  await page.reload();
  await waitFor(page, "#who", "Signed in as s0001");
  await waitFor(page, "#sections-body tr");
  await waitFor(page, "#live.on");
});

test("enroll in the last seat while another client takes one: the count updates live", { timeout: TEST_MS }, async () => {
  const page = pages.ada;
  await waitFor(page, `#sections-body tr[data-id="COMSCI-35L-1"] .seats`, "0 / 2");
  await page.evaluate(() => { window.__noReload = true; });
  // The page watches the rows in view (and Ada's own sections): she looks at the row.
  await row(page, "COMSCI-35L-1").scrollIntoViewIfNeeded();
  await page.waitForTimeout(600);

  // Another client (Sam, over plain HTTP) takes the first of the two seats.
  const [sam] = await api(server.url, tokens.s0002).run(
    { type: "enroll", student: "s0002", section: "COMSCI-35L-1", waitlist: false });
  assert.equal(sam.type, "enrolled");
  await seats(page, "COMSCI-35L-1").filter({ hasText: "1 / 2" }).waitFor();
  assert.equal(await page.evaluate(() => window.__noReload), true, "updated without a reload");

  // Ada takes the last one from the page.
  await row(page, "COMSCI-35L-1").getByRole("button", { name: "Enroll: COMSCI-35L-1" }).click();
  await message(page, "You are enrolled in COMSCI-35L-1.");
  assert.equal(await page.locator("#message").getAttribute("data-kind"), "ok");
  await seats(page, "COMSCI-35L-1").filter({ hasText: "2 / 2" }).waitFor();
  await row(page, "COMSCI-35L-1").locator(".tag", { hasText: "Enrolled" }).waitFor();
  // It is on the weekly schedule, Monday and Wednesday.
  await waitFor(page, "#week .block", "COMSCI-35L-1");
  assert.equal(await page.locator("#week .block", { hasText: "COMSCI-35L-1" }).count(), 2);
  assert.equal(await page.locator("#st-units").textContent(), "13 of 20");

  const record = await admin.get("/api/v1/students/s0001");
  assert.ok(record.enrolled.includes("COMSCI-35L-1"));

  await page.locator("#schedule-view").screenshot({ path: `${SCREENSHOTS}/schedule.png` });
  await page.locator("#sections-view").scrollIntoViewIfNeeded();
  await screenshot(page, "sections");
});

test("a refusal gets a clear sentence (time conflict), search narrows the list, a problem shows its detail", { timeout: TEST_MS }, async () => {
  const page = pages.ada;
  await row(page, "MATH-31A-1").getByRole("button", { name: "Enroll: MATH-31A-1" }).click();
  await message(page, "MATH-31A-1 meets at the same time as COMSCI-35L-1, which you are enrolled in.");
  assert.equal(await page.locator("#message").getAttribute("data-kind"), "refusal");
  await seats(page, "MATH-31A-1").filter({ hasText: "0 / 30" }).waitFor();

  // Search narrows the list; a problem (an HTTP error) is shown with its detail.
  await page.getByLabel("Search sections").fill("calculus");
  await waitFor(page, "#sections-count", "1 section matches “calculus”");
  assert.equal(await page.locator("#sections-body tr").count(), 1);
  await page.getByLabel("Search sections").fill("");
  await waitFor(page, "#sections-count", "5 sections.");

  await page.locator("#swap-from").selectOption("COMSCI-31-1");
  await page.getByLabel("for", { exact: true }).fill("NOPE-1");
  await page.getByRole("button", { name: "Swap" }).click();
  const problem = await message(page, "NOPE-1");
  assert.equal(await page.locator("#message").getAttribute("data-kind"), "error");
  assert.ok(problem.length > 15, problem);
});

test("join the waitlist, then a drop promotes: the waitlisted student sees it live", { timeout: TEST_MS }, async () => {
  const lee = await browser.newPage();
  pages.lee = lee;
  await signIn(lee, tokens.s0003, "s0003");
  await seats(lee, "COMSCI-35L-1").filter({ hasText: "2 / 2" }).waitFor();

  // Full: a plain enroll is refused in words, then Lee joins the waitlist.
  await row(lee, "COMSCI-35L-1").getByRole("button", { name: "Enroll: COMSCI-35L-1" }).click();
  await message(lee, "COMSCI-35L-1 is full. You can join its waitlist instead.");
  await row(lee, "COMSCI-35L-1").getByRole("button", { name: "Join waitlist: COMSCI-35L-1" }).click();
  await message(lee, "COMSCI-35L-1 is full; you are 1st on its waitlist.");
  await waitlist(lee, "COMSCI-35L-1").filter({ hasText: "1 / 5" }).waitFor();
  await waitFor(lee, "#waitlisted-list li", "COMSCI-35L-1");
  await waitFor(lee, "#waitlisted-list .place", "1st of 1");
  await waitFor(lee, "#waitlist-hint", "enrolled at once");

  // Kim joins the line behind Lee: Lee's page says so, live, with no reload.
  const joined = await admin.run(
    { type: "create_student", student: "s0009", name: "Kim Lin", max_units: 20 },
    { type: "enroll", student: "s0009", section: "COMSCI-35L-1", waitlist: true },
  );
  assert.deepEqual(joined, [{ type: "created" }, { type: "waitlisted", position: 2 }]);
  await waitFor(lee, "#waitlisted-list .place", "1st of 2");
  await row(lee, "COMSCI-35L-1").locator(".tag", { hasText: "On waitlist" }).waitFor();

  // Ada's page saw the waitlist grow, live; she drops from her schedule.
  const ada = pages.ada;
  await waitlist(ada, "COMSCI-35L-1").filter({ hasText: "2 / 5" }).waitFor();
  await ada.locator("#enrolled-list").getByRole("button", { name: "Drop: COMSCI-35L-1" }).click();
  // A student is told a seat was freed and taken, never by whom.
  await message(ada, "You dropped COMSCI-35L-1. The freed seat went to a student from the waitlist.");
  await ada.locator("#week .block", { hasText: "COMSCI-35L-1" }).first().waitFor({ state: "detached" });

  // Lee, without reloading, is now enrolled: the seat count, the row and the week.
  await waitlist(lee, "COMSCI-35L-1").filter({ hasText: "1 / 5" }).waitFor();
  await seats(lee, "COMSCI-35L-1").filter({ hasText: "2 / 2" }).waitFor();
  await waitFor(lee, "#enrolled-list li", "COMSCI-35L-1");
  await row(lee, "COMSCI-35L-1").locator(".tag", { hasText: "Enrolled" }).waitFor();
  await waitFor(lee, "#week .block", "COMSCI-35L-1");
  assert.equal(await lee.locator("#waitlisted-list li", { hasText: "COMSCI-35L-1" }).count(), 0);
  await admin.run({ type: "drop", student: "s0009", section: "COMSCI-35L-1" });
});

test("swap, and a hold: the balance shows it and enrolling is refused in words", { timeout: TEST_MS }, async () => {
  const lee = pages.lee;
  await lee.locator("#swap-from").selectOption("COMSCI-35L-1");
  await lee.getByLabel("for", { exact: true }).fill("ENGCOMP-3-1");
  await lee.getByRole("button", { name: "Swap" }).click();
  await message(lee, "You swapped COMSCI-35L-1 for ENGCOMP-3-1.");
  await waitFor(lee, "#enrolled-list li", "ENGCOMP-3-1");
  await seats(lee, "COMSCI-35L-1").filter({ hasText: "1 / 2" }).waitFor();

  // Lee overdraws (another client): a negative balance is a hold.
  const [bal] = await api(server.url, tokens.s0003).run({ type: "withdraw", student: "s0003", amount_cents: 1 });
  assert.equal(bal.type, "balance");
  await lee.getByRole("button", { name: "Refresh" }).click();
  await waitFor(lee, "#st-hold", "Hold: your balance is −$30.01");
  await row(lee, "PHYSICS-1A-1").getByRole("button", { name: "Enroll: PHYSICS-1A-1" }).click();
  await message(lee, "You have a hold on your account (balance −$30.01).");

  // Paying it clears the hold.
  await lee.getByLabel("Pay into my account ($)").fill("30.01");
  await lee.getByRole("button", { name: "Pay" }).click();
  await message(lee, "Your balance is now $0.00.");
  assert.ok(await lee.locator("#st-hold").isHidden());
});

test("cached reads revalidate with If-None-Match (304), and a lost answer is retried once", { timeout: TEST_MS }, async () => {
  const lee = pages.lee;
  const seen = [];
  const onResponse = async (res) => {
    if (new URL(res.url()).pathname === "/api/v1/sections") {
      seen.push({ status: res.status(), inm: await res.request().headerValue("if-none-match") });
    }
  };
  // A first refresh brings the page up to date; the second finds nothing changed.
  await lee.getByRole("button", { name: "Refresh" }).click();
  await message(lee, "Up to date.");
  await lee.evaluate(() => { document.getElementById("message").textContent = ""; });
  lee.on("response", onResponse);
  await lee.getByRole("button", { name: "Refresh" }).click();
  await message(lee, "Up to date.");
  lee.off("response", onResponse);
  assert.ok(seen.length >= 1, "the catalog was read");
  // Each page of the list has its own tag (and one per coding of its bytes).
  assert.ok(seen.every((r) => r.status === 304 && /^"(p[0-9a-f]{16}|\d+)(-gzip|-br)?"$/.test(r.inm)), JSON.stringify(seen));

  // The server applies the deposit but the answer never reaches the page (the
  // connection is reset): the page retries the same client and seq, and murphy
  // answers the stored result instead of applying it again.
  const before = (await admin.get("/api/v1/students/s0003")).balance_cents;
  let lost = 0;
  await lee.route("**/api/v1/commands", async (route) => {
    if (lost === 0) {
      lost++;
      await route.fetch();
      await route.abort("connectionreset");
    } else {
      await route.continue();
    }
  });
  await lee.getByLabel("Pay into my account ($)").fill("5");
  await lee.getByRole("button", { name: "Pay" }).click();
  await message(lee, `Your balance is now ${"$"}${((before + 500) / 100).toFixed(2)}.`);
  await lee.unroute("**/api/v1/commands");
  assert.equal(lost, 1);
  assert.equal((await admin.get("/api/v1/students/s0003")).balance_cents, before + 500, "applied exactly once");
});

test("admin: set a section's capacity, and read the log's tail", { timeout: TEST_MS }, async () => {
  const page = await browser.newPage();
  await signIn(page, server.adminToken, "");
  assert.ok(await page.locator("#admin-view").isVisible());
  assert.ok(await page.locator("#schedule-view").isHidden());
  await waitFor(page, "#log-body tr", "The registrar created COMSCI-35L-1, Software Construction: 4 units, 2 seats, a waitlist of 5.");

  await row(page, "COMSCI-35L-1").getByRole("button", { name: "Edit seats: COMSCI-35L-1" }).click();
  assert.equal(await page.getByLabel("Section", { exact: true }).inputValue(), "COMSCI-35L-1");
  await page.getByLabel("Seats", { exact: true }).fill("0");
  await page.getByRole("button", { name: "Set capacity" }).click();
  await message(page, "COMSCI-35L-1 has 1 enrolled student; its capacity cannot be set below that.");

  // A raise: the student's page sees the new capacity live.
  await page.getByLabel("Seats", { exact: true }).fill("3");
  await page.getByRole("button", { name: "Set capacity" }).click();
  await message(page, "COMSCI-35L-1 now has 3 seats.");
  await seats(page, "COMSCI-35L-1").filter({ hasText: "1 / 3" }).waitFor();
  await seats(pages.ada, "COMSCI-35L-1").filter({ hasText: "1 / 3" }).waitFor();
  // The log's tail reads as sentences, refusals included.
  await waitFor(page, "#log-body tr", "The registrar set COMSCI-35L-1's capacity to 3 seats.");
  await waitFor(page, "#log-body tr", "s0001 dropped COMSCI-35L-1. s0003 got a seat from the waitlist.");
  await waitFor(page, "#log-body tr", "The registrar could not set COMSCI-35L-1's capacity to 0 seats: 1 student is enrolled.");
  await waitFor(page, "#log-body tr", "s0003 could not enroll in COMSCI-35L-1: it is full.");
  const logged = await admin.get("/api/v1/sections/COMSCI-35L-1");
  assert.equal(logged.capacity, 3);
  await screenshot(page, "admin", { message: false });
});

test("on a phone: the sections list fits the screen", { timeout: TEST_MS }, async () => {
  const page = await browser.newPage({ width: 390, height: 844 });
  await signIn(page, tokens.s0001, "s0001");
  // A fresh sign-in draws the week with the catalog's meetings and titles.
  await waitFor(page, "#week .block", "COMSCI-31-1");
  await waitFor(page, "#enrolled-list li", "Introduction to Computer Science I");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no sideways scrolling (${overflow}px too wide)`);
  await screenshot(page, "phone", { message: false });
});

test("no credential in any URL the page requests: its live stream rides the sign-in cookie", { timeout: TEST_MS }, async () => {
  const page = await browser.newPage();
  const urls = [];
  page.on("request", (r) => urls.push(r.url()));
  await signIn(page, tokens.s0002, "s0002");
  // Scrolling changes the rows in view: the stream follows them, opened again.
  await page.locator("#sections-body tr").last().scrollIntoViewIfNeeded();
  await page.waitForTimeout(800);
  const streams = urls.filter((u) => new URL(u).pathname === "/api/v1/events");
  assert.ok(streams.length >= 1, JSON.stringify(urls));
  for (const u of urls) {
    for (const token of Object.values(tokens)) assert.ok(!u.includes(token), `a token in ${u}`);
    assert.ok(!new URL(u).searchParams.has("access_token"), u);
  }
  assert.ok(streams.every((u) => !new URL(u).searchParams.has("ticket")), JSON.stringify(streams));
  await page.close();
});

test("one section of a course (rules version 2): a second is refused in words, naming the first", { timeout: TEST_MS }, async () => {
  const [created] = await admin.run({
    type: "create_section", section: "COMSCI-31-2", title: "Introduction to Computer Science I", units: 4,
    capacity: 40, waitlist_capacity: 10, meetings: [{ days: "F", start: "08:00", end: "09:50" }],
  });
  assert.equal(created.type, "created");
  assert.ok((await admin.get("/api/v1/students/s0001")).enrolled.includes("COMSCI-31-1"));
  const page = pages.ada;
  await page.reload();
  await waitFor(page, "#sections-body tr", "COMSCI-31-2");
  await row(page, "COMSCI-31-2").getByRole("button", { name: "Enroll: COMSCI-31-2" }).click();
  await message(page, "You already hold or wait for COMSCI-31-1, a section of COMSCI-31, and a student takes one "
    + "section of a course. Drop COMSCI-31-1 first, or swap its seat for COMSCI-31-2.");
  assert.equal(await page.locator("#message").getAttribute("data-kind"), "refusal");
  await seats(page, "COMSCI-31-2").filter({ hasText: "0 / 40" }).waitFor();
});
