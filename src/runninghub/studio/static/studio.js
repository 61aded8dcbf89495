// The studio's only script: uploads dropped files, submits the form, follows the task.
// Server text is put on the page with textContent only, never as markup.
"use strict";

const csrf = document.querySelector('meta[name="csrf-token"]').content;

async function post(url, body, json) {
  const headers = { "X-Studio-CSRF": csrf };
  if (json) headers["Content-Type"] = "application/json";
  const answer = await fetch(url, { method: "POST", headers, body, credentials: "same-origin" });
  let data = {};
  try { data = await answer.json(); } catch (e) { data = { error: "the studio answered " + answer.status }; }
  return { ok: answer.ok, data };
}

function showError(box, message) {
  const slot = box.querySelector(".field-error");
  slot.textContent = message || "";
  slot.hidden = !message;
  box.classList.toggle("invalid", Boolean(message));
}

async function uploadInto(box, file) {
  const target = document.getElementById(box.querySelector(".drop").dataset.for);
  const form = new FormData();
  form.append("file", file);
  showError(box, "");
  box.classList.add("busy");
  const { ok, data } = await post("/api/upload", form, false);
  box.classList.remove("busy");
  if (!ok) { showError(box, data.error); return; }
  target.value = box.querySelector(".drop").dataset.use === "download_url" ? data.download_url : data.file_name;
  const preview = box.querySelector(".preview");
  if (file.type.startsWith("image/")) { preview.src = URL.createObjectURL(file); preview.hidden = false; }
}

function wireDrops() {
  for (const drop of document.querySelectorAll(".drop")) {
    const box = drop.closest(".field");
    drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
    drop.addEventListener("dragleave", () => drop.classList.remove("over"));
    drop.addEventListener("drop", (e) => {
      e.preventDefault();
      drop.classList.remove("over");
      if (e.dataTransfer.files.length) uploadInto(box, e.dataTransfer.files[0]);
    });
    drop.querySelector(".picker").addEventListener("change", (e) => {
      if (e.target.files.length) uploadInto(box, e.target.files[0]);
    });
  }
}

// A model's checks want JSON types; a workflow's fields take text (the graph converts it).
function typedValue(kind, text) {
  if (kind === "bool" && (text === "true" || text === "false")) return text === "true";
  if (kind === "int" && /^-?\d+$/.test(text.trim())) return Number(text);
  if (kind === "float" && text.trim() !== "" && Number.isFinite(Number(text))) return Number(text);
  return text;  // anything else goes as typed: the SDK's check names what is wrong with it
}

// A workflow or an app gets the fields that differ from the graph; a model every value set.
function formValues(form) {
  const values = {};
  const typed = form.dataset.kind === "model";
  for (const box of form.querySelectorAll(".field[data-address]")) {
    if (box.hasAttribute("data-extra") || !box.dataset.address) continue;
    const input = box.querySelector("[name]");
    if (typed ? input.value === "" : input.value === box.dataset.default) continue;
    values[box.dataset.address] = typed ? typedValue(box.dataset.kind, input.value) : input.value;
  }
  const extra = form.querySelector("[data-extra]");
  const address = extra ? extra.querySelector("#extra-address").value.trim() : "";
  if (address) { extra.dataset.address = address; values[address] = extra.querySelector("#extra-value").value; }
  return values;
}

function runBody(form, more) {
  return JSON.stringify({ kind: form.dataset.kind, target: form.dataset.target, values: formValues(form), ...more });
}

function outputElement(output, taskId) {
  if (output.kind === "text") { const p = document.createElement("pre"); p.textContent = output.text; return p; }
  const url = "/files/" + encodeURIComponent(taskId) + "/" + encodeURIComponent(output.name);
  const figure = document.createElement("figure");
  const tags = { image: "img", video: "video", audio: "audio" };
  if (tags[output.kind]) {
    const media = document.createElement(tags[output.kind]);
    media.src = url;
    if (output.kind === "image") media.alt = output.name; else { media.controls = true; media.preload = "metadata"; }
    figure.append(media);
  }
  const link = document.createElement("a");
  link.href = url + "?download=1";
  link.download = output.name;
  link.className = "download";
  link.textContent = "Download " + output.name;
  figure.append(link);
  return figure;
}

function follow(taskId) {
  document.getElementById("task").hidden = false;
  document.getElementById("task-id").textContent = taskId;
  document.getElementById("task-detail").href = "/task/" + encodeURIComponent(taskId);
  const events = new EventSource("/api/tasks/" + encodeURIComponent(taskId) + "/events");
  events.onmessage = (message) => {
    const view = JSON.parse(message.data);
    const panel = document.getElementById("task");
    panel.dataset.seen = (panel.dataset.seen || "") + view.status + " ";  // what was pushed
    document.getElementById("status").textContent = view.status;
    const step = view.node ? "node " + view.node + (view.step ? " " + view.step : "") : "";
    document.getElementById("step").textContent = view.error || step;
    if (!view.finished) return;
    events.close();
    const place = document.getElementById("outputs");
    place.replaceChildren(...view.outputs.map((o) => outputElement(o, taskId)));
    document.getElementById("submit").disabled = false;
  };
}

async function submitRun(event) {
  event.preventDefault();
  const form = event.target;
  const formError = form.querySelector(".form-error");
  form.querySelectorAll(".field").forEach((box) => showError(box, ""));
  formError.hidden = true;
  const body = runBody(form, {});
  document.getElementById("submit").disabled = true;
  const { ok, data } = await post("/api/run", body, true);
  if (ok) { follow(data.task_id); return; }
  document.getElementById("submit").disabled = false;
  for (const [address, message] of Object.entries(data.errors || {})) {
    const box = [...form.querySelectorAll(".field")].find((b) => b.dataset.address === address);
    if (box) showError(box, message);
  }
  if (data.error) { formError.textContent = data.error + (data.task_id ? " (task " + data.task_id + ")" : ""); formError.hidden = false; }
}

async function savePreset() {
  const form = document.getElementById("run-form");
  const box = document.getElementById("preset-name-box");
  const saved = document.getElementById("preset-saved");
  showError(box, "");
  saved.hidden = true;
  const more = { name: document.getElementById("preset-name").value, description: document.getElementById("preset-description").value };
  const { ok, data } = await post("/api/presets", runBody(form, more), true);
  if (!ok) { showError(box, data.error); return; }
  saved.textContent = "Saved preset " + data.name + ": run it with runninghub preset run " + data.name;
  saved.hidden = false;
}

document.addEventListener("DOMContentLoaded", () => {
  wireDrops();
  const form = document.getElementById("run-form");
  if (form) form.addEventListener("submit", submitRun);
  const save = document.getElementById("save-preset");
  if (save) save.addEventListener("click", savePreset);
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => { if (select.value) select.form.submit(); });
  }
});
