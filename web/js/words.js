// The words the page says to a student: a sentence for every outcome a command can
// have, and the money, ordinals, instants, meetings and lists inside such sentences.
// Pure: no state, no DOM; the log's sentences (log-words.js) build on these.

export function money(cents) {
  const sign = cents < 0 ? "−" : "";
  const abs = Math.abs(cents);
  return `${sign}$${Math.floor(abs / 100).toLocaleString("en-US")}.${String(abs % 100).padStart(2, "0")}`;
}

export function ordinal(n) {
  const s = ["th", "st", "nd", "rd"];
  const v = n % 100;
  return n + (s[(v - 20) % 10] || s[v] || s[0]);
}

// Where a student stands in the waiting room: "You are 4,213th in line; about 3 to 5
// minutes".
export function lineWords(line) {
  switch (line.state) {
    case "admitted": return "You are admitted: your request goes through now.";
    case "closed": return "Registration is open to everyone again: your request goes through now.";
    case "out": return "Taking a place in line…";
    case "pre_queue":
      return `You are in line. Registration opens ${line.opens_at ? when(line.opens_at) : "soon"}; `
        + "then the order of everyone who came before is drawn, so there is no need to hurry.";
    default: {
      const place = line.place ? `You are ${ordinal(line.place).replace(/^\d+/, (d) => Number(d).toLocaleString("en-US"))} in line` : "You are in line";
      return line.eta ? `${place}; ${etaWords(line.eta.min_s, line.eta.max_s)}.` : `${place}.`;
    }
  }
}

// "about 3 to 5 minutes", "about 40 to 60 seconds", "any moment now".
export function etaWords(minS, maxS) {
  if (maxS <= 30) return "any moment now";
  if (maxS <= 90) return `about ${minS} to ${maxS} seconds`;
  const low = Math.floor(minS / 60);
  const high = Math.ceil(maxS / 60);
  if (low === 0) return `up to ${high} minutes`;
  return low === high ? `about ${low} minutes` : `about ${low} to ${high} minutes`;
}

export function when(instant) {
  const d = new Date(instant);
  return Number.isNaN(d.getTime()) ? instant : d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function meetingsText(meetings) {
  // Word joiners around the dash: a narrow column breaks between meetings, never
  // inside a time range ("09:00–" on one line, "09:50" on the next).
  return (meetings || []).map((m) => `${m.days} ${m.start}\u2060–\u2060${m.end}`).join(", ") || "TBA";
}

// "COMSCI-32-1 with COMSCI-32-1A" for a pair, the section alone otherwise.
export function pairText(sec, withSec) {
  return withSec ? `${sec} with ${withSec}` : sec;
}

export function list(ids) {
  return ids.length <= 1 ? (ids[0] || "") : `${ids.slice(0, -1).join(", ")} or ${ids[ids.length - 1]}`;
}

export const seatCount = (n) => `${n} ${n === 1 ? "seat" : "seats"}`;

export const LINK_PROBLEMS = {
  has_links: "it has linked sections of its own",
  linked_elsewhere: "it is already linked to another section",
  not_empty: "students are enrolled or waiting in it",
  meets_at_the_same_time: "it meets at the same time",
};

// A sentence a student understands, for every outcome a command can have.
// `section`, the section's last read (SectionView) when the page has it, lets a
// refusal offer only what can be done: no waitlist where it takes no one.
export function describe(command, outcome, section) {
  const sec = command.section || command.to;
  const both = pairText(sec, command.with);
  switch (outcome.type) {
    case "enrolled":
      return `You are enrolled in ${both}.` + (command.permission ? ` Your permission number ${command.permission} is used.` : "");
    case "waitlisted":
      return command.with
        ? `No seats in ${both} for you now; you are ${ordinal(outcome.position)} on ${sec}'s waitlist, for both.`
        : `${sec} is full; you are ${ordinal(outcome.position)} on its waitlist.`;
    case "full":
      if (command.permission) return `${both} is full. A permission number never adds a seat.`;
      return command.waitlist
        ? `${both} is full, and so is its waitlist. Nothing was changed.`
        : section && section.waitlist_capacity === 0
          ? `${both} is full, and it has no waitlist.`
          : `${both} is full. You can join its waitlist instead.`;
    case "reserved": return `The seats left in ${sec} are reserved until ${when(outcome.until)}; they open to everyone then. You can join its waitlist.`;
    case "needs_linked": return needsLinkedText(command, outcome.choices);
    case "missing_prerequisite": return `${sec} requires ${outcome.course}, which is not on your record as completed. The registrar can give you a permission number.`;
    case "bad_permission": return `That permission number does not open ${sec} for you: it is someone else's, for another section, or already used.`;
    case "completion_recorded": return `${command.course} is now on ${command.student}'s record as completed.`;
    case "permission": return `Permission number ${outcome.code}: it lets ${command.student} enroll in ${command.section} once.`;
    case "below_reserved": return `${sec} has ${outcome.enrolled} enrolled and ${seatCount(outcome.held)} still held for reservations; its capacity cannot be set below ${outcome.enrolled + outcome.held}.`;
    case "cannot_link": return `${outcome.section} cannot be linked to ${sec}: ${LINK_PROBLEMS[outcome.reason] || outcome.reason}.`;
    case "already_enrolled": return `You are already enrolled in ${sec}.`;
    case "already_waitlisted": return `You are already on ${sec}'s waitlist, ${ordinal(outcome.position)} in line.`;
    case "duplicate_course": return `You already hold or wait for ${outcome.held}, a section of ${outcome.course}, and a student takes one section of a course. Drop ${outcome.held} first, or swap its seat for ${sec}.`;
    case "time_conflict": return `${sec} meets at the same time as ${outcome.with}, which you are enrolled in.`;
    case "unit_limit": return `${sec} would bring you to ${outcome.units} units; your limit is ${outcome.max_units}.`;
    case "hold": return `You have a hold on your account (balance ${money(outcome.balance_cents)}). Pay it before enrolling; you can still drop.`;
    case "not_open": return `Your registration appointment opens ${when(outcome.opens_at)}; you cannot enroll before then.`;
    case "not_enrolled":
      return command.type === "swap"
        ? `You are not enrolled in ${command.from}, so it cannot be swapped.`
        : `You are not enrolled in ${sec}, nor on its waitlist.`;
    case "dropped": {
      const left = command.leaving === "waitlist" ? `You left ${sec}'s waitlist.`
        : outcome.linked ? `You dropped ${sec}, and ${outcome.linked} with it.` : `You dropped ${sec}.`;
      return left + promotedText(outcome.promoted, undefined, outcome.promoted_count);
    }
    case "swapped": {
      const from = outcome.linked ? `${command.from} and ${outcome.linked}` : command.from;
      return `You swapped ${from} for ${pairText(command.to, command.with)}.` + promotedText(outcome.promoted, command.from, outcome.promoted_count);
    }
    case "capacity_set": return `${sec} now has ${command.capacity} seats.` + promotedText(outcome.promoted, undefined, outcome.promoted_count);
    case "below_enrolled": return `${sec} has ${outcome.enrolled} enrolled ${outcome.enrolled === 1 ? "student" : "students"}; its capacity cannot be set below that.`;
    case "balance":
      return `Your balance is now ${money(outcome.cents)}.` +
        (outcome.fee_cents ? ` An overdraft fee of ${money(outcome.fee_cents)} was charged.` : "");
    case "insufficient_funds": return `Not enough money: your balance is ${money(outcome.balance_cents)}.`;
    case "balance_limit": return "That would take the balance past the largest amount allowed.";
    case "no_such_section": return `There is no section ${outcome.section}.`;
    case "no_such_student": return `There is no student ${outcome.student}.`;
    case "already_exists": return "That already exists.";
    case "created": return "Created.";
    case "appointment_set": return "The appointment is set.";
    case "rules_upgraded": return `The rules are upgraded from version ${outcome.from} to version ${outcome.to}; every command from now on is decided under version ${outcome.to}.`;
    case "already_upgraded": return `The rules are already at version ${outcome.rules}; nothing changed.`;
    case "imported": return `Imported ${outcome.rows} ${outcome.rows === 1 ? "row" : "rows"} at once` +
      (outcome.already_recorded ? `; ${outcome.already_recorded} of them were already on record.` : ".");
    case "import_refused": {
      const row = (command.rows || [])[outcome.row - 1] || {};
      return `Row ${outcome.row} was refused, so nothing was imported: ${describe(row, outcome.refusal)}`;
    }
    case "line_opened": return `Registration window ${outcome.window} is open: students join the line now, drawn into an order at ${when(command.opens_at)}, and at most ${command.active_max} are admitted at once.`;
    case "line_closed": return "The registration window is closed: students write without waiting in line.";
    case "line_moved": return `The line moved: ${outcome.tickets} places reserved, places up to ${outcome.admitted} admitted.`;
    case "no_line": return "No registration window is open.";
    default: return `murphy answered: ${outcome.type}.`;
  }
}

// What to do about a move that needs a linked section.
function needsLinkedText(command, choices) {
  const sec = command.section || command.to;
  if (command.type === "drop") return `${sec} goes with ${list(choices)}: drop that to leave both, or swap ${sec} for another of its sections.`;
  if (command.type === "swap") {
    return choices.length ? `That swap would split a lecture from its linked section; it can be made with ${list(choices)}.` : `${command.to} takes no linked section.`;
  }
  if (command.with && choices.length === 0) return `${sec} has no linked sections, so ${command.with} cannot go with it.`;
  if (command.with) return `${command.with} is not one of ${sec}'s linked sections: choose ${list(choices)}.`;
  return `${sec} is taken together with ${list(choices)}: choose one.`;
}

// A student's answer counts those promoted (`promoted_count`) and names no one; the
// registrar's names them.
function promotedText(promoted, section, count = 0) {
  if ((!promoted || promoted.length === 0) && count > 0) {
    const whose = section ? `${section}'s freed seat` : "The freed seat";
    return ` ${whose}${count > 1 ? "s went" : " went"} to ${count === 1 ? "a student" : `${count} students`} from the waitlist.`;
  }
  if (!promoted || promoted.length === 0) return "";
  const who = promoted.join(", ");
  return ` ${section ? section + "'s" : "The"} freed seat${promoted.length > 1 ? "s went" : " went"} to ${who} from the waitlist.`;
}

// The outcomes that did what was asked (said as "ok"); every other one is a refusal.
// web/tests/words.test.js checks it, and a sentence for every outcome, against the API
// document, whose outcome kinds are checked against the server's own list.
export const SUCCESS = new Set(["enrolled", "waitlisted", "dropped", "swapped", "capacity_set", "balance", "created", "appointment_set",
  "completion_recorded", "permission", "rules_upgraded", "imported", "line_opened", "line_closed", "line_moved"]);
