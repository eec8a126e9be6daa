// Small builders of the page's elements, shared by every view: an element by id, a
// button that says what it does to which section, a tag, a labelled table cell.

export const $ = (id) => document.getElementById(id);

// A button whose accessible name says its section too: "Drop: COMSCI-31-1".
export function button(text, action, section, cls = "") {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  b.dataset.action = action;
  b.dataset.section = section;
  if (cls) b.className = cls;
  b.setAttribute("aria-label", `${text}: ${section}`);
  return b;
}

export function tag(text, kind) {
  const t = document.createElement("span");
  t.className = `tag ${kind}`;
  t.textContent = text;
  return t;
}

// A cell labelled with its column's name: on a phone the table stacks, and the label
// is shown beside the value.
export function cell(label, text) {
  const td = document.createElement("td");
  td.dataset.label = label;
  td.textContent = text;
  return td;
}

export function emptyItem(text) {
  const li = document.createElement("li");
  li.className = "hint";
  li.textContent = text;
  return li;
}
