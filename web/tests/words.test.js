// The page's sentences against the API document, no browser needed: every outcome kind
// the document lists (the server's OpenAPI test checks that list against the server's
// own catalogue of kinds) reads as a sentence of its own, for a student and in the log,
// and the page counts as successes exactly the kinds the document does not mark as
// refusals. A new outcome without a sentence fails here.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe as sentence, etaWords, lineWords, SUCCESS } from "../js/words.js";
import { logSentence } from "../js/log-words.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

const doc = JSON.parse(await readFile(path.join(ROOT, "crates/server/src/openapi.json"), "utf8"));
const schemas = doc.components.schemas;
const resolve = (ref) => schemas[ref.$ref.split("/").pop()];
const outcomes = schemas.Outcome.oneOf.map(resolve);
const commands = schemas.Command.oneOf.map(resolve);
/** The command an outcome answers in its sentences (an enroll unless it is another's). */
const ANSWERS = {
  created: "create_section", already_exists: "create_section", cannot_link: "create_section",
  capacity_set: "set_capacity", below_enrolled: "set_capacity", below_reserved: "set_capacity",
  appointment_set: "set_appointment", completion_recorded: "record_completion", permission: "issue_permission",
  dropped: "drop", swapped: "swap", balance: "withdraw", insufficient_funds: "transfer", balance_limit: "deposit",
  rules_upgraded: "upgrade_rules", already_upgraded: "upgrade_rules", imported: "import", import_refused: "import",
  line_opened: "open_line", line_closed: "close_line", line_moved: "advance_line",
};
const commandFor = (kind) => ({
  ...commands.find((c) => c.properties.type.const === (ANSWERS[kind] || "enroll")).examples[0],
});

test("the document lists every outcome with an example and a refusal mark", () => {
  assert.ok(outcomes.length >= 30, `${outcomes.length} outcome kinds`);
  for (const o of outcomes) {
    assert.equal(typeof o["x-refusal"], "boolean", o.title);
    assert.ok(o.examples && o.examples.length > 0, o.title);
  }
});

test("every outcome kind reads as its own sentence, for a student and in the log", () => {
  for (const schema of outcomes) {
    const kind = schema.properties.type.const;
    for (const outcome of schema.examples) {
      const command = commandFor(kind);
      const said = sentence(command, outcome);
      assert.ok(!said.startsWith("murphy answered"), `${kind} has no sentence: ${said}`);
      assert.ok(!said.includes("undefined"), `${kind}: ${said}`);
      // The log's fallback ends with the kind's name: "... could not ...: rules upgraded."
      const logged = logSentence({ command, outcome, effects: {} });
      assert.ok(!logged.endsWith(`: ${kind.replaceAll("_", " ")}.`), `${kind} has no log sentence: ${logged}`);
      assert.ok(!logged.includes("undefined"), `${kind}: ${logged}`);
    }
  }
});

test("every command kind says what it asked for in the log", () => {
  for (const schema of commands) {
    const kind = schema.properties.type.const;
    const logged = logSentence({ command: schema.examples[0], outcome: { type: "already_exists" }, effects: {} });
    assert.ok(!logged.includes(`could not ${kind.replaceAll("_", " ")}:`), `${kind} has no intent: ${logged}`);
  }
});

test("the page's successes are the document's non-refusals", () => {
  const documented = new Set(outcomes.filter((o) => !o["x-refusal"]).map((o) => o.properties.type.const));
  assert.deepEqual([...SUCCESS].sort(), [...documented].sort());
});

test("a duplicate course is said with the section held and the way out", () => {
  const said = sentence(
    { type: "enroll", student: "s0001", section: "COMSCI-35L-2" },
    { type: "duplicate_course", course: "COMSCI-35L", held: "COMSCI-35L-1" },
  );
  assert.equal(
    said,
    "You already hold or wait for COMSCI-35L-1, a section of COMSCI-35L, and a student takes one section of a " +
      "course. Drop COMSCI-35L-1 first, or swap its seat for COMSCI-35L-2.",
  );
});

test("a place in line reads as a sentence with the place and about how long", () => {
  const waiting = { state: "waiting", place: 4213, ahead: 4104, eta: { min_s: 180, max_s: 300 } };
  assert.equal(lineWords(waiting), "You are 4,213th in line; about 3 to 5 minutes.");
  assert.equal(lineWords({ ...waiting, place: 1001, eta: { min_s: 1, max_s: 2 } }), "You are 1,001st in line; any moment now.");
  assert.equal(lineWords({ state: "admitted" }), "You are admitted: your request goes through now.");
  assert.match(lineWords({ state: "pre_queue", opens_at: "2026-11-30T08:00:00Z" }), /^You are in line\. Registration opens /);
  assert.equal(etaWords(40, 60), "about 40 to 60 seconds");
  assert.equal(etaWords(20, 100), "up to 2 minutes");
});
