// Test harness: the real murphy binary on 127.0.0.1 port 0 over a temporary data dir,
// set up through API v1 with fetch, and Debian's Chromium driven by playwright-core.
// Everything started here is stopped by `stop()`, and the server is also killed when
// the test process exits for any reason.

import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, mkdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, "../..");
// The README's screenshots are rewritten only when asked (MURPHY_SCREENSHOTS=1), so an
// ordinary test run leaves the work tree as it found it.
export const SCREENSHOTS = process.env.MURPHY_SCREENSHOTS
  ? path.join(ROOT, "docs/screenshots")
  : path.join(os.tmpdir(), "murphy-screenshots");
// The binary cargo built: MURPHY_BIN when given (scripts/web-test.sh sets it), else in
// cargo's target directory, which CARGO_TARGET_DIR moves (relative to the repository).
const BINARY = process.env.MURPHY_BIN
  || path.resolve(ROOT, process.env.CARGO_TARGET_DIR || "target", "debug/murphy");
const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

const STEP_MS = 15_000;

/** Rejects when `promise` takes longer than `ms`. */
export function within(ms, promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The real murphy; `flags` adds to `murphy serve`'s (a listen address, OIDC, limits). */
export async function startServer(flags = []) {
  const dir = await mkdtemp(path.join(tmpdir(), "murphy-web-"));
  const adminToken = `adm_${randomBytes(16).toString("hex")}`;
  const listen = flags.includes("--listen") ? [] : ["--listen", "127.0.0.1:0"];
  const child = spawn(BINARY, [
    "serve", ...listen, "--data-dir", path.join(dir, "data"), "--admin-token", adminToken, ...flags,
  ], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, RUST_LOG: process.env.RUST_LOG || "warn" } });
  const killOnExit = () => { try { child.kill("SIGKILL"); } catch { /* gone */ } };
  process.on("exit", killOnExit);
  let stderr = "";
  child.stderr.on("data", (d) => { stderr = (stderr + d).slice(-4000); });
  const url = await within(STEP_MS, new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/murphy serving (http:\/\/[^\s/]+)\//);
      if (m) resolve(m[1]);
    });
    child.on("error", reject);
    child.on("exit", (code) => reject(new Error(`murphy exited (${code}) before serving: ${stderr}`)));
  }), "murphy to start");
  const exited = new Promise((r) => child.once("exit", r));
  return {
    url,
    adminToken,
    async stop() {
      process.off("exit", killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        try { await within(5000, exited, "murphy to stop"); } catch { child.kill("SIGKILL"); }
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A tiny API v1 client for setting up and for "another client" in the tests. */
export function api(url, token) {
  const call = async (method, p, body) => {
    const res = await within(STEP_MS, fetch(url + p, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body ? { "Content-Type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    }), `${method} ${p}`);
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  return {
    get: (p) => call("GET", p),
    post: (p, body) => call("POST", p, body),
    async run(...commands) {
      const { results } = await call("POST", "/api/v1/commands", { commands });
      return results.map((r) => r.outcome);
    },
  };
}

// chromium.launch() gives Chromium a fresh temporary user-data dir of its own (and
// removes it on close); each student gets its own context (its own localStorage).
export async function startBrowser() {
  const browser = await within(STEP_MS * 2, chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
    timeout: STEP_MS * 2,
  }), "Chromium to start");
  return {
    browser,
    /** A page in a new, isolated context (cookies and localStorage of its own). */
    async newPage(viewport = { width: 1200, height: 860 }) {
      const context = await browser.newContext({ viewport });
      context.setDefaultTimeout(8000);
      const page = await context.newPage();
      page.on("pageerror", (e) => console.error("page error:", e.message));
      return page;
    },
    async stop() {
      try { await within(10_000, browser.close(), "Chromium to close"); } catch { /* the process is gone with us */ }
    },
  };
}

// `message: false` leaves the message out: it is fixed to the viewport, so a full-page
// picture shows it mid-page, over whatever is there.
export async function screenshot(page, name, { message = true } = {}) {
  await mkdir(SCREENSHOTS, { recursive: true });
  if (!message) await page.evaluate(() => { document.getElementById("message").textContent = ""; });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}
