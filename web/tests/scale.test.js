// The page at a university's size, in a real browser: 10,000 sections. The list shows
// its first page, reads more as it is scrolled, searches on the server, and its live
// stream watches the rows in view (never the whole catalog). The times it takes are
// printed (a `scale:` line, and MURPHY_SCALE_OUT if set) for docs/BENCHMARKS.md; they
// are measured, not asserted: this machine's speed is not the page's correctness.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { api, startBrowser, startServer } from "./harness.js";

const SECTIONS = 10_000;
const DEPARTMENTS = ["COMSCI", "MATH", "PHYSICS", "CHEM", "ECON", "HIST", "ENGCOMP", "LING", "PSYCH", "STATS"];

let server;
let browser;
let token;

before(async () => {
  server = await startServer();
  const admin = api(server.url, server.adminToken);
  const per = SECTIONS / DEPARTMENTS.length;
  const all = [];
  for (const dept of DEPARTMENTS) {
    for (let n = 1; n <= per; n++) {
      all.push({
        type: "create_section", section: `${dept}-${n}-1`, title: `${dept} course number ${n}`, units: 4,
        capacity: 50, waitlist_capacity: 10, meetings: [{ days: n % 2 ? "MWF" : "TR", start: "10:00", end: "10:50" }],
      });
    }
  }
  for (let i = 0; i < all.length; i += 100) {
    const outcomes = await admin.run(...all.slice(i, i + 100));
    assert.ok(outcomes.every((o) => o.type === "created"));
  }
  await admin.run({ type: "create_student", student: "s0001", name: "Ada Bruin", max_units: 20 });
  token = (await admin.post("/api/v1/tokens", { student: "s0001" })).token;
  browser = await startBrowser();
}, { timeout: 180_000 });

after(async () => {
  await browser?.stop();
  await server?.stop();
}, { timeout: 30_000 });

test("10,000 sections: a page at a time, searched on the server, live for the rows in view", { timeout: 90_000 }, async () => {
  const page = await browser.newPage();
  // Long tasks (main-thread work over 50 ms), from the start of the page.
  await page.addInitScript(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longTasks.push(e.duration);
    }).observe({ type: "longtask", buffered: true });
  });
  const streams = [];
  page.on("request", (r) => { if (new URL(r.url()).pathname === "/api/v1/events") streams.push(new URL(r.url())); });
  await page.goto(server.url + "/");
  await page.getByLabel("Token").fill(token);
  const signedIn = Date.now();
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("#sections-body tr").first().waitFor();
  const firstPaintMs = Date.now() - signedIn;
  assert.equal(await page.locator("#sections-body tr").count(), 100, "the first page");
  await page.locator("#sections-count", { hasText: "100 sections shown" }).waitFor();

  // Scrolling reads the next pages.
  for (let i = 0; i < 3; i++) {
    await page.locator("#sections-body tr").last().scrollIntoViewIfNeeded();
    await page.waitForFunction((n) => document.querySelectorAll("#sections-body tr").length > n, 100 * (i + 1));
  }
  // The stream follows the rows in view: a handful of sections, never 10,000.
  await page.waitForTimeout(1000);
  const last = streams.at(-1);
  const watched = (last.searchParams.get("sections") || "").split(",").filter(Boolean);
  assert.ok(watched.length > 0 && watched.length <= 200, `${watched.length} sections watched`);
  const inView = await page.evaluate(() => {
    const rows = [...document.querySelectorAll("#sections-body tr")];
    const r = rows.find((tr) => { const b = tr.getBoundingClientRect(); return b.top >= 0 && b.bottom <= innerHeight; });
    return r?.dataset.id;
  });
  assert.ok(watched.includes(inView), `${inView} is in view and watched`);

  // A search asks the server; its answer replaces the list.
  const searches = [];
  for (const words of ["PHYSICS course number 777", "HIST 1234", "course number 42"]) {
    const typed = Date.now();
    await page.getByLabel("Search sections").fill(words);
    await page.locator("#sections-count", { hasText: `“${words}”` }).or(page.locator("#sections-count", { hasText: "shown" }))
      .first().waitFor();
    await page.waitForFunction((w) => document.getElementById("sections-count").textContent.includes(w)
      || document.querySelectorAll("#sections-body tr").length > 0, words);
    searches.push(Date.now() - typed);
  }
  assert.equal(await page.locator("#sections-body tr[data-id='PHYSICS-777-1']").count(), 0, "the last search replaced the list");
  await page.getByLabel("Search sections").fill("PHYSICS course number 777");
  await page.locator("#sections-body tr[data-id='PHYSICS-777-1']").waitFor();
  const longTasks = await page.evaluate(() => window.__longTasks);
  const result = {
    sections: SECTIONS,
    first_paint_after_sign_in_ms: firstPaintMs,
    search_ms: searches,
    long_tasks_ms: longTasks,
    longest_task_ms: Math.max(0, ...longTasks),
    streams_opened: streams.length,
    sections_watched: watched.length,
  };
  console.log(`scale: ${JSON.stringify(result)}`);
  if (process.env.MURPHY_SCALE_OUT) await writeFile(process.env.MURPHY_SCALE_OUT, JSON.stringify(result, null, 2));
  await page.close();
});
