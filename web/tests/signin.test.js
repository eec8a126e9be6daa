// Signing in as a university would have it, in Chromium against a real OpenID provider
// (oidc-provider, started here): the student signs in at the provider and comes back
// signed in, with an HttpOnly, Secure, SameSite=Strict cookie and no token a script can
// read; the registrar comes back as the admin; a student murphy does not know is told
// so; signing out ends it; a forged cookie and an expired one sign nobody in; a page
// of another origin cannot write with the cookie.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { api, startBrowser, startServer } from "./harness.js";
import { CLIENT_ID, CLIENT_SECRET, freePort, startProvider } from "./provider.js";

const TEST_MS = 30_000;
const SIGN_IN_TIME_S = 3;

let server;
let provider;
let issuer;
let browser;
let admin;
let ada;

before(async () => {
  const [murphyPort, providerPort] = [await freePort(), await freePort()];
  issuer = `http://127.0.0.1:${providerPort}`;
  server = await startServer([
    "--listen", `127.0.0.1:${murphyPort}`,
    "--oidc-issuer", issuer, "--oidc-client-id", CLIENT_ID, "--oidc-client-secret", CLIENT_SECRET,
    "--oidc-student-claim", "student_id", "--oidc-admin-claim", "groups=registrar",
    "--sign-in-time-max-s", String(SIGN_IN_TIME_S),
  ]);
  provider = await startProvider(issuer, server.url);
  admin = api(server.url, server.adminToken);
  await admin.run(
    { type: "create_section", section: "MATH-31A-1", title: "Calculus", units: 4, capacity: 30, waitlist_capacity: 5,
      meetings: [{ days: "MWF", start: "15:00", end: "15:50" }] },
    { type: "create_student", student: "s0001", name: "Ada Bruin", max_units: 20 },
  );
  ada = (await admin.post("/api/v1/tokens", { student: "s0001" })).token;
  browser = await startBrowser();
}, { timeout: 60_000 });

after(async () => {
  await browser?.stop();
  await provider?.stop();
  await server?.stop();
}, { timeout: 30_000 });

/** Through the provider's login and consent pages, back to murphy. */
async function signInAtProvider(page, login) {
  await page.goto(server.url + "/");
  await page.getByRole("link", { name: "Sign in with your university" }).click();
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill("any password");
  await page.getByRole("button", { name: "Sign-in" }).click();
  await page.getByRole("button", { name: "Continue" }).click();
  await page.waitForURL((url) => url.origin === server.url);
}

async function sessionCookie(page) {
  return (await page.context().cookies()).find((c) => c.name === "murphy_session");
}

test("a student signs in at the university's provider and holds only an HttpOnly cookie", { timeout: TEST_MS }, async () => {
  const page = await browser.newPage();
  await signInAtProvider(page, "ada");
  await page.locator("#who", { hasText: "Signed in as s0001" }).waitFor();
  await page.locator("#st-name", { hasText: "Ada Bruin" }).waitFor();
  const cookie = await sessionCookie(page);
  assert.ok(cookie, "the sign-in cookie is set");
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.secure, true);
  assert.equal(cookie.sameSite, "Strict");
  assert.equal(await page.evaluate(() => document.cookie), "", "no cookie a script can read");
  assert.equal(await page.evaluate(() => localStorage.length === 0 || !JSON.stringify({ ...localStorage }).includes("mst_")), true);
  // Live counts ride on the same cookie: no credential in the stream's URL.
  await page.locator("#live.on").waitFor();
  // A command goes through with the cookie alone.
  await page.locator('#sections-body tr[data-id="MATH-31A-1"]').getByRole("button", { name: /^Enroll/ }).first().click();
  await page.locator("#message", { hasText: "MATH-31A-1" }).waitFor();
  const me = await api(server.url, ada).get("/api/v1/students/s0001");
  assert.deepEqual(me.enrolled, ["MATH-31A-1"]);
  await page.context().close();
});

test("the registrar signs in as the admin by the provider's group claim", { timeout: TEST_MS }, async () => {
  const page = await browser.newPage();
  await signInAtProvider(page, "registrar");
  await page.locator("#who", { hasText: "Signed in as admin" }).waitFor();
  await page.locator("#admin-view").waitFor();
  await page.context().close();
});

test("someone the provider knows but murphy does not is told so, and not signed in", { timeout: TEST_MS }, async () => {
  const page = await browser.newPage();
  await signInAtProvider(page, "stranger");
  await page.locator("#message", { hasText: "no student record for you" }).waitFor();
  assert.ok(await page.locator("#signin-view").isVisible());
  assert.equal(await sessionCookie(page), undefined);
  await page.context().close();
});

test("signing out ends the sign-in; a reload stays signed out", { timeout: TEST_MS }, async () => {
  const page = await browser.newPage();
  await signInAtProvider(page, "ada");
  await page.locator("#who", { hasText: "Signed in as s0001" }).waitFor();
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.locator("#signin-view").waitFor();
  await page.waitForFunction(async () => (await fetch("/api/v1/me")).status === 401);
  await page.reload();
  await page.locator("#signin-view").waitFor();
  assert.equal(await page.locator("#who").isVisible(), false);
  await page.context().close();
});

test("a forged cookie signs nobody in", { timeout: TEST_MS }, async () => {
  const page = await browser.newPage();
  await signInAtProvider(page, "ada");
  await page.locator("#who", { hasText: "Signed in as s0001" }).waitFor();
  const cookie = await sessionCookie(page);
  // The same cookie, made to name the registrar: its MAC no longer matches.
  const forged = cookie.value.replace("s0001", "@admin");
  await page.context().addCookies([{ ...cookie, value: forged }]);
  await page.reload();
  await page.locator("#signin-view").waitFor();
  await page.locator("#message", { hasText: "sign in again" }).waitFor();
  const status = await page.evaluate(async () => (await fetch("/api/v1/log")).status);
  assert.equal(status, 401);
  await page.context().close();
});

test("an expired sign-in signs nobody in, and says so", { timeout: TEST_MS }, async () => {
  const page = await browser.newPage();
  await page.goto(server.url + "/");
  await page.getByLabel("Token").fill(ada);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("#who", { hasText: "Signed in as s0001" }).waitFor();
  const cookie = await sessionCookie(page);
  assert.ok(cookie, "a token sign-in sets the cookie too");
  // The browser would drop it at Max-Age; a copy kept past its time is refused by murphy.
  await new Promise((r) => setTimeout(r, SIGN_IN_TIME_S * 1000 + 500));
  await page.context().addCookies([{ ...cookie, expires: Math.floor(Date.now() / 1000) + 3600 }]);
  await page.reload();
  await page.locator("#signin-view").waitFor();
  await page.locator("#message", { hasText: "expired" }).waitFor();
  await page.context().close();
});

test("a page of another origin cannot write with the cookie", { timeout: TEST_MS }, async () => {
  const page = await browser.newPage();
  await page.goto(server.url + "/");
  await page.getByLabel("Token").fill(ada);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("#who", { hasText: "Signed in as s0001" }).waitFor();
  const before = await api(server.url, ada).get("/api/v1/students/s0001");
  // The provider's origin (same host, another port: the same site, so SameSite lets
  // the cookie go) posts a form murphy would read as JSON.
  await page.goto(`${issuer}/.well-known/openid-configuration`);
  await page.evaluate((target) => {
    const form = document.createElement("form");
    form.method = "POST";
    form.action = `${target}/api/v1/commands`;
    form.enctype = "text/plain";
    const field = document.createElement("input");
    field.name = '{"commands":[{"type":"deposit","student":"s0001","amount_cents":100000,"x":"';
    field.value = '"}]}';
    form.append(field);
    document.body.append(form);
    form.submit();
  }, server.url);
  await page.waitForURL(`${server.url}/api/v1/commands`);
  const answer = await page.locator("body").textContent();
  assert.match(answer, /cross_site/);
  const after_ = await api(server.url, ada).get("/api/v1/students/s0001");
  assert.equal(after_.balance_cents, before.balance_cents, "nothing applied");
  await page.context().close();
});
