// The waiting room in a real browser: while a registration window is open, a student's
// enroll is answered with their place in line; the page shows it above the sections
// (whose seats stay live), asks again when murphy says to, and once the student is
// admitted sends the enroll again with the pass, without a reload.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { api, screenshot, startBrowser, startServer } from "./harness.js";

let server;
let browser;
let admin;
let token;

before(async () => {
  // Ask again every second, so the test waits seconds, not minutes.
  server = await startServer(["--line-poll-time-min-s", "1", "--line-poll-time-max-s", "1"]);
  admin = api(server.url, server.adminToken);
  const created = await admin.run(
    { type: "create_section", section: "HIST-1-1", title: "Western Civilization", units: 4, capacity: 5,
      waitlist_capacity: 0, meetings: [{ days: "MW", start: "10:00", end: "11:50" }] },
    { type: "create_student", student: "s0001", name: "Ada Bruin", max_units: 20 },
  );
  assert.ok(created.every((o) => o.type === "created"), JSON.stringify(created));
  token = (await admin.post("/api/v1/tokens", { student: "s0001" })).token;
  browser = await startBrowser();
}, { timeout: 60_000 });

after(async () => {
  await browser?.stop();
  await server?.stop();
}, { timeout: 30_000 });

const row = (page, id) => page.locator(`#sections-body tr[data-id="${id}"]`);

test("an enroll during a registration window waits in line, shows the place, and goes through when admitted", { timeout: 60_000 }, async () => {
  const page = await browser.newPage();
  await page.goto(server.url + "/");
  await page.getByLabel("Token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("#who", { hasText: "Signed in as s0001" }).waitFor();
  await row(page, "HIST-1-1").waitFor();
  await page.locator("#live.on").waitFor();
  await page.evaluate(() => { window.__noReload = true; });
  assert.ok(await page.locator("#line-view").isHidden(), "no line shown while no window is open");

  // Registration opens in a few seconds: those who come before are drawn into an order.
  const opensAt = new Date(Date.now() + 4000).toISOString();
  const [opened] = await admin.run({ type: "open_line", opens_at: opensAt, active_max: 100 });
  assert.equal(opened.type, "line_opened", JSON.stringify(opened));

  await row(page, "HIST-1-1").getByRole("button", { name: "Enroll: HIST-1-1" }).click();
  await page.locator("#line-view").waitFor();
  await page.locator("#line-place", { hasText: "You are in line" }).waitFor();
  await screenshot(page, "waiting-room");

  // The registrar adds a seat meanwhile (the registrar is never held in line): the
  // seats of the row the student watches change while they wait.
  await admin.run({ type: "set_capacity", section: "HIST-1-1", capacity: 6 });
  await row(page, "HIST-1-1").locator(".seats", { hasText: "/ 6" }).waitFor();
  assert.ok(await page.locator("#line-view").isVisible(), "still in line");

  // Admitted after the opening: the enroll is sent again, with the pass, by itself.
  await row(page, "HIST-1-1").locator(".tag", { hasText: "Enrolled" }).waitFor({ timeout: 25_000 });
  await page.locator("#line-view").waitFor({ state: "hidden" });
  assert.equal(await page.evaluate(() => window.__noReload), true, "no reload");
  await page.locator("#message", { hasText: "HIST-1-1" }).waitFor();
});
