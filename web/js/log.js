// The admin's view of the log's tail: its newest entries read and drawn as a table,
// each told in a sentence (log-words.js), newest first.

import { fetchLog } from "./api.js";
import { $ } from "./dom.js";
import { logSentence } from "./log-words.js";
import { state } from "./state.js";
import { SUCCESS } from "./words.js";

const LOG_PAGE = 50;

// The log's tail: start a page before the newest LSN we know of, then page forward
// until a short page says we reached the end; show the last 50 entries.
export async function loadLog() {
  if (!state.admin) return;
  let after = Math.max(0, state.lastLsn - LOG_PAGE);
  let lines = [];
  for (let pages = 0; pages < 100; pages++) {
    const page = await fetchLog(after, LOG_PAGE);
    lines = lines.concat(page).slice(-LOG_PAGE);
    if (page.length < LOG_PAGE) break;
    after = page[page.length - 1].lsn;
  }
  if (lines.length) state.lastLsn = Math.max(state.lastLsn, lines[lines.length - 1].lsn);
  renderLog(lines);
}

function renderLog(lines) {
  const rows = lines.slice().reverse().map((e) => {
    const tr = document.createElement("tr");
    const ok = SUCCESS.has((e.outcome || {}).type);
    const cells = [String(e.lsn), new Date(e.at).toLocaleTimeString(), logSentence(e), e.client ? `${e.client} #${e.seq}` : "—"];
    for (const [i, text] of cells.entries()) {
      const td = document.createElement(i === 0 ? "th" : "td");
      if (i === 0) td.scope = "row";
      td.textContent = text;
      if (i === 2) td.className = ok ? "ok" : "refusal";
      tr.append(td);
    }
    return tr;
  });
  $("log-body").replaceChildren(...rows);
}
