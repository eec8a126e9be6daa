// The page's state, one object every module shares: who is signed in, what murphy last
// said (the catalog, the student's record, cached answers), and this tab's session.
// Only the modules that read, write or draw change it; nothing here does I/O.

// No credential is kept here or in localStorage: the sign-in is an HttpOnly cookie
// the script never sees. Only the student an admin acts for is remembered.
export const STORE_STUDENT = "murphy.student";

export const state = {
  student: null, // the student id this page acts as (null: admin without one)
  admin: false,
  me: null, // the last StudentView
  // The list shown: the ids of the pages read so far for the search, in order, and the
  // cursor of the next page (null: none left).
  list: { ids: [], next: null, query: "", loaded: false },
  byId: new Map(), // section id -> SectionView: the list's and the student's (patched live)
  cache: new Map(), // path -> {etag, body}: by-hand HTTP revalidation
  session: null, // {client, seq}
  pass: null, // the waiting room's pass, once the student waited in line (line.js)
  queue: Promise.resolve(), // commands are sent one at a time, in order
  events: null, // the EventSource
  watched: "", // the sections it watches, as sent (comma-separated)
  lastLsn: 0,
  notes: new Map(), // section id -> {text, kind}: the last answer, shown on its row
  choosing: null, // {section, waitlist}: the lecture whose linked sections are offered
};
