// The log's entries in sentences, as the registrar would tell them. Pure: an entry of
// GET /api/v1/log in, a sentence out.

import { LINK_PROBLEMS, list, money, ordinal, pairText, seatCount, when } from "./words.js";

// A log entry as the registrar would tell it: "s0001 enrolled in MATH-1-1.", "The
// registrar could not set MATH-1-1's capacity to 0 seats: 3 students are enrolled."
export function logSentence(entry) {
  const c = entry.command || {};
  const o = entry.outcome || {};
  const released = ((entry.effects || {}).released || [])
    .map((r) => `${r.section}'s ${seatCount(r.seats)} held for ${r.for} opened to all (their time had come). `)
    .join("");
  return released + (done(c, o) ?? `${actor(c)} could not ${intent(c)}: ${reason(c, o)}.`);
}

// Who a command is by: the student it acts for, or the registrar for the catalog's.
function actor(c) {
  switch (c.type) {
    case "enroll": case "drop": case "swap": case "deposit": case "withdraw": return c.student;
    case "transfer": return c.from;
    default: return "The registrar";
  }
}

// Who moved up from a waitlist because of it.
function movedUp(promoted) {
  if (!promoted || promoted.length === 0) return "";
  return ` ${promoted.join(", ")} got ${promoted.length === 1 ? "a seat" : "seats"} from the waitlist.`;
}

// What a command did, when it did what it asked; null for a refusal.
function done(c, o) {
  const who = actor(c);
  switch (o.type) {
    case "created":
      return c.type === "create_section"
        ? `The registrar created ${c.section}, ${c.title}: ${c.units} units, ${seatCount(c.capacity)}, a waitlist of ${c.waitlist_capacity}.`
        : `The registrar created student ${c.student}, ${c.name}.`;
    case "capacity_set": return `The registrar set ${c.section}'s capacity to ${seatCount(c.capacity)}.${movedUp(o.promoted)}`;
    case "appointment_set":
      return c.at ? `The registrar set ${c.student}'s registration to open ${when(c.at)}.` : `The registrar cleared ${c.student}'s registration appointment.`;
    case "enrolled": return `${who} enrolled in ${pairText(c.section, c.with)}${c.permission ? " with a permission number" : ""}.`;
    case "waitlisted": return `${who} joined ${c.section}'s waitlist${c.with ? ` (with ${c.with})` : ""}, ${ordinal(o.position)} in line.`;
    case "dropped": return `${who} dropped ${c.section}${o.linked ? ` and ${o.linked}` : ""}.${movedUp(o.promoted)}`;
    case "swapped": return `${who} swapped ${c.from} for ${pairText(c.to, c.with)}.${movedUp(o.promoted)}`;
    case "completion_recorded": return `The registrar recorded ${c.course} as completed by ${c.student}.`;
    case "permission": return `The registrar issued permission number ${o.code} to ${c.student} for ${c.section}.`;
    case "rules_upgraded": return `The registrar upgraded the rules from version ${o.from} to version ${o.to}.`;
    case "imported": return `The registrar imported ${o.rows} ${o.rows === 1 ? "row" : "rows"} at once${o.already_recorded ? ` (${o.already_recorded} already on record)` : ""}.`;
    case "line_opened": return `The registrar opened registration window ${o.window}: the line is drawn at ${when(c.opens_at)}, at most ${c.active_max} admitted at once${c.automatic ? " (opened by the server under lasting overload)" : ""}.`;
    case "line_closed": return "The registrar closed the registration window.";
    case "line_moved": return `The waiting room moved: ${o.tickets} places reserved${c.seed != null ? ", the pre-queue drawn into an order" : ""}, places up to ${o.admitted} admitted.`;
    case "balance": {
      const fee = o.fee_cents ? `, after an overdraft fee of ${money(o.fee_cents)}` : "";
      const what = c.type === "deposit" ? `deposited ${money(c.amount_cents)}`
        : c.type === "withdraw" ? `withdrew ${money(c.amount_cents)}`
        : `transferred ${money(c.amount_cents)} to ${c.to}`;
      return `${who} ${what}; the balance is ${money(o.cents)}${fee}.`;
    }
    default: return null;
  }
}

// What a refused command asked for: the rest of "X could not ...".
function intent(c) {
  switch (c.type) {
    case "create_section": return `create section ${c.section}`;
    case "set_capacity": return `set ${c.section}'s capacity to ${seatCount(c.capacity)}`;
    case "create_student": return `create student ${c.student}`;
    case "set_appointment": return `set ${c.student}'s registration appointment`;
    case "enroll": return `enroll in ${pairText(c.section, c.with)}` + (c.waitlist ? " or its waitlist" : "");
    case "record_completion": return `record ${c.course} as completed by ${c.student}`;
    case "issue_permission": return `issue a permission number to ${c.student} for ${c.section}`;
    case "drop": return `drop ${c.section}`;
    case "swap": return `swap ${c.from} for ${c.to}`;
    case "deposit": return `deposit ${money(c.amount_cents)}`;
    case "withdraw": return `withdraw ${money(c.amount_cents)}`;
    case "transfer": return `transfer ${money(c.amount_cents)} to ${c.to}`;
    case "upgrade_rules": return `upgrade the rules to version ${c.rules}`;
    case "import": return `import ${(c.rows || []).length} rows`;
    case "open_line": return `open a registration window at ${when(c.opens_at)}, at most ${c.active_max} admitted at once`;
    case "close_line": return "close the registration window";
    case "advance_line": return `move the line of window ${c.window}`;
    default: return String(c.type).replaceAll("_", " ");
  }
}

// Why it was refused.
function reason(c, o) {
  switch (o.type) {
    case "full": return c.waitlist ? "it is full, and so is its waitlist" : "it is full";
    case "already_enrolled": return "already enrolled there";
    case "already_waitlisted": return `already ${ordinal(o.position)} on its waitlist`;
    case "time_conflict": return `it meets at the same time as ${o.with}`;
    case "unit_limit": return `that would make ${o.units} units, over the limit of ${o.max_units}`;
    case "hold": return `a hold, with a balance of ${money(o.balance_cents)}`;
    case "not_open": return `registration opens ${when(o.opens_at)}`;
    case "not_enrolled": return `not enrolled in ${c.type === "swap" ? c.from : c.section}`;
    case "below_enrolled": return `${o.enrolled} ${o.enrolled === 1 ? "student is" : "students are"} enrolled`;
    case "below_reserved": return `${o.enrolled} enrolled and ${seatCount(o.held)} held for reservations`;
    case "reserved": return `the seats left are reserved until ${when(o.until)}`;
    case "needs_linked": return `it goes together with ${list(o.choices)}`;
    case "missing_prerequisite": return `${o.course} is not completed`;
    case "bad_permission": return "the permission number is not valid for it";
    case "cannot_link": return `${o.section} cannot be linked (${LINK_PROBLEMS[o.reason] || o.reason})`;
    case "insufficient_funds": return `the balance is only ${money(o.balance_cents)}`;
    case "balance_limit": return "the balance would pass the most murphy holds";
    case "no_such_section": return `there is no section ${o.section}`;
    case "no_such_student": return `there is no student ${o.student}`;
    case "already_exists": return "it already exists";
    case "duplicate_course": return `${c.student} already has ${o.held}, a section of ${o.course}`;
    case "already_upgraded": return `the rules are already at version ${o.rules}`;
    case "import_refused": {
      const row = (c.rows || [])[o.row - 1] || {};
      return `row ${o.row} (${intent(row)}) was refused, as ${reason(row, o.refusal || {})}, so none was imported`;
    }
    case "no_line": return "no such registration window is open";
    default: return String(o.type).replaceAll("_", " ");
  }
}
