// The batch pages' script: the column-to-field mapping form, opening a ledger, and the grid
// that follows the ledger. Server text goes on the page with textContent only; the polled
// grid is the studio's own server-rendered (escaped) markup.
"use strict";

const batchCsrf = document.querySelector('meta[name="csrf-token"]').content;

async function batchPost(url, body) {
  const headers = { "X-Studio-CSRF": batchCsrf };
  if (typeof body === "string") headers["Content-Type"] = "application/json";
  const answer = await fetch(url, { method: "POST", headers, body, credentials: "same-origin" });
  let data = {};
  try { data = await answer.json(); } catch (e) { data = { error: "the studio answered " + answer.status }; }
  return { ok: answer.ok, data };
}

function showLines(box, lines) {
  box.replaceChildren(...lines.map((line) => {
    const item = document.createElement(box.tagName === "UL" ? "li" : "span");
    item.textContent = line;
    return item;
  }));
  box.hidden = lines.length === 0;
}

function sourceForm(form) {
  const data = new FormData();
  data.append("workflow_id", form.querySelector("#batch-workflow").value.trim());
  const picked = form.querySelector("#batch-csv").files;
  if (picked.length) data.append("csv", picked[0]);
  else data.append("folder", form.querySelector("#batch-folder").value);
  return data;
}

function mappingRow(column) {
  const row = document.createElement("tr");
  row.dataset.column = column.name;
  const name = document.createElement("td");
  name.textContent = column.name;
  const sample = document.createElement("td");
  sample.className = "sample";
  sample.textContent = column.sample;
  const cell = document.createElement("td");
  const input = document.createElement("input");
  input.setAttribute("list", "batch-fields");
  input.value = column.suggested;
  input.placeholder = "ignored";
  input.setAttribute("aria-label", "field for column " + column.name);
  const error = document.createElement("div");
  error.className = "field-error";
  error.hidden = true;
  cell.append(input, error);
  row.append(name, sample, cell);
  return row;
}

function showMapping(form, info) {
  const list = form.querySelector("#batch-fields");
  list.replaceChildren(...info.fields.map((f) => { const o = document.createElement("option"); o.value = f.address; o.label = f.label; return o; }));
  form.querySelector(".mapping tbody").replaceChildren(...info.columns.map(mappingRow));
  form.querySelector(".mapping-note").textContent = info.folder
    ? info.rows + " files: choose the media field that gets each file."
    : info.rows + " rows: each column goes to a node field (NODE.FIELD), or leave it empty to ignore it.";
  form.querySelector("#batch-mapping").hidden = false;
}

async function inspectSource(form) {
  const errors = form.querySelector(".form-error");
  showLines(errors, []);
  const { ok, data } = await batchPost("/api/batch/inspect", sourceForm(form));
  if (ok) showMapping(form, data); else showLines(errors, [data.error]);
}

function chosenMapping(form) {
  const mapping = {};
  for (const row of form.querySelectorAll(".mapping tbody tr")) mapping[row.dataset.column] = row.querySelector("input").value.trim();
  return mapping;
}

async function startBatch(event) {
  event.preventDefault();
  const form = event.target;
  const errors = form.querySelector(".form-error");
  for (const row of form.querySelectorAll(".mapping tbody tr")) { row.classList.remove("invalid"); showLines(row.querySelector(".field-error"), []); }
  showLines(errors, []);
  const data = sourceForm(form);
  data.append("mapping", JSON.stringify(chosenMapping(form)));
  data.append("max_tasks", form.querySelector("[name=max_tasks]").value);
  data.append("max_coins", form.querySelector("[name=max_coins]").value);
  form.querySelector("#batch-start").disabled = true;
  const answer = await batchPost("/api/batch", data);
  form.querySelector("#batch-start").disabled = false;
  if (answer.ok) { location.assign("/batch/" + encodeURIComponent(answer.data.batch_id)); return; }
  const general = answer.data.error ? [answer.data.error] : [];
  for (const [column, message] of Object.entries(answer.data.columns || {})) {
    const row = [...form.querySelectorAll(".mapping tbody tr")].find((r) => r.dataset.column === column);
    if (row) { row.classList.add("invalid"); showLines(row.querySelector(".field-error"), [message]); } else general.push(column + ": " + message);
  }
  showLines(errors, general);
}

async function openLedger(event) {
  event.preventDefault();
  const form = event.target;
  const body = JSON.stringify({ path: form.querySelector("#ledger-path").value });
  const { ok, data } = await batchPost("/api/batch/open", body);
  if (ok) location.assign("/batch/" + encodeURIComponent(data.batch_id));
  else showLines(form.querySelector(".form-error"), [data.error]);
}

// The grid follows the ledger: the live part of the page is fetched again while it changes.
function followGrid() {
  const live = document.getElementById("batch-live");
  if (!live) return;
  updateActions(live);
  if (live.dataset.live !== "1") return;
  setTimeout(async () => {
    const answer = await fetch(location.pathname + "?part=live", { credentials: "same-origin" });
    if (answer.ok) {
      const fresh = new DOMParser().parseFromString(await answer.text(), "text/html").getElementById("batch-live");
      if (fresh) document.getElementById("batch-live").replaceWith(document.adoptNode(fresh));
    }
    followGrid();
  }, 1000);
}

function updateActions(live) {
  const retry = document.getElementById("retry-failed");
  const resume = document.getElementById("resume-batch");
  if (retry) retry.disabled = live.dataset.live === "1" || live.dataset.retryable === "0";
  if (resume) resume.hidden = live.dataset.resumable !== "1";
}

async function rerun(form, action) {
  const errors = form.querySelector(".form-error");
  showLines(errors, []);
  const body = JSON.stringify({
    max_tasks: form.querySelector("[name=max_tasks]").value,
    max_coins: form.querySelector("[name=max_coins]").value,
  });
  const url = "/api/batch/" + encodeURIComponent(form.dataset.batch) + "/" + action;
  const { ok, data } = await batchPost(url, body);
  if (!ok) { showLines(errors, [data.error]); return; }
  document.getElementById("batch-live").dataset.live = "1";
  followGrid();
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("batch-form");
  if (form) {
    form.querySelector("#batch-inspect").addEventListener("click", () => inspectSource(form));
    form.addEventListener("submit", startBatch);
  }
  const ledger = document.getElementById("ledger-form");
  if (ledger) ledger.addEventListener("submit", openLedger);
  const actions = document.getElementById("batch-actions");
  if (actions) {
    actions.addEventListener("submit", (e) => { e.preventDefault(); rerun(actions, "retry"); });
    actions.querySelector("#resume-batch").addEventListener("click", () => rerun(actions, "resume"));
  }
  followGrid();
});
