// The home page: order a piece, preview its prompt, and watch the jobs live. Job status comes
// from the server-sent events of GET /status/{id}/events; when a stream cannot be had the page
// polls GET /status/{id} instead.
import { ApiError, FINISHED, follow, get, post, query } from "./api.js";
import { $, announce, badge, complianceText, h, money, showError, sleep, when } from "./dom.js";
import { clearErrors, input, promptBody, requestBody, showErrors } from "./form.js";
import { fatal, signIn } from "./session.js";

const MAX_STREAMS = 4; // browsers allow 6 connections per server over HTTP/1.1
const POLL_MS = 2000;
const REFRESH_MS = 15000;

const state = {
  clients: new Map(),
  followers: new Map(), // job id -> AbortController
  live: "sse",
  cursor: null,
  generation: 0,
  pollTimer: 0,
};

const tbody = () => $("jobs").tBodies[0];

function fillClients(clients) {
  const picker = input("client_id");
  const filter = $("filter-client");
  picker.replaceChildren();
  for (const client of clients) {
    state.clients.set(client.id, client);
    picker.append(h("option", { value: client.id }, client.name));
    filter.append(h("option", { value: client.id }, client.name));
  }
  if (!clients.length) picker.append(h("option", { value: "" }, "No clients for this token"));
}

function setLive(mode) {
  state.live = mode;
  document.body.dataset.live = mode;
  $("live-state").textContent = mode === "sse" ? "Live updates" : `Updating every ${POLL_MS / 1000} s`;
}

// --- the job list ------------------------------------------------------------------------------

function cells(job) {
  const result = job.result;
  const meta = result ? result.metadata : null;
  const client = state.clients.get(job.params.client_id);
  const clientCell = client
    ? h("a", { href: `/web/clients/${encodeURIComponent(client.id)}` }, client.name)
    : job.params.client_id.slice(0, 8);
  return [
    h("td", { "data-label": "Status", class: "status" }, badge(job.status)),
    h("td", { "data-label": "Client" }, clientCell),
    h("td", { "data-label": "Topic", class: "topic" },
      h("a", { href: `/web/jobs/${encodeURIComponent(job.job_id)}` }, job.params.topic),
      h("span", { class: "type" }, ` ${job.params.content_type}`)),
    h("td", { "data-label": "Words", class: "num words" }, meta ? String(meta.word_count) : "—"),
    h("td", { "data-label": "Cost", class: "num cost" }, meta ? money(meta.generation_cost) : "—"),
    h("td", { "data-label": "Compliance", class: "num compliance" }, complianceText(meta)),
    h("td", { "data-label": "Created" }, when(job.created_at)),
  ];
}

function rowOf(id) {
  return tbody().querySelector(`tr[data-job-id="${CSS.escape(id)}"]`);
}

/** Show a job: update its row in place (focus stays where it is) or add it in date order. */
function upsert(job) {
  let row = rowOf(job.job_id);
  const before = row ? row.dataset.status : null;
  if (row && row.dataset.updated && row.dataset.updated > job.updated_at) return; // stale
  if (!row) {
    row = h("tr", { dataset: { jobId: job.job_id, created: job.created_at } });
    const later = [...tbody().rows].find((r) => r.dataset.created < job.created_at);
    tbody().insertBefore(row, later || null);
  }
  row.dataset.status = job.status;
  row.dataset.updated = job.updated_at;
  row.replaceChildren(...cells(job));
  $("jobs-empty").hidden = true;
  if (before && before !== job.status && FINISHED.has(job.status)) {
    announce(`Job “${job.params.topic}” is ${job.status.replace("_", " ")}.`);
  }
  track(job);
}

function track(job) {
  if (FINISHED.has(job.status)) {
    const follower = state.followers.get(job.job_id);
    if (follower) follower.abort();
    state.followers.delete(job.job_id);
  } else if (state.live === "sse" && !state.followers.has(job.job_id)
             && state.followers.size < MAX_STREAMS) {
    startFollowing(job.job_id);
  }
  schedulePoll();
}

function startFollowing(id) {
  const control = new AbortController();
  state.followers.set(id, control);
  follow(`/status/${encodeURIComponent(id)}/events`, (event) => {
    if (event.event === "status") upsert(JSON.parse(event.data));
  }, control.signal)
    .catch((error) => {
      if (control.signal.aborted) return;
      if (!(error instanceof ApiError) || error.status !== 404) setLive("polling");
    })
    .finally(() => {
      if (state.followers.get(id) === control) state.followers.delete(id);
      schedulePoll();
    });
}

/** Poll the unfinished jobs that no stream follows (all of them once streams failed). */
function schedulePoll() {
  const waiting = [...tbody().rows].filter(
    (row) => !FINISHED.has(row.dataset.status) && !state.followers.has(row.dataset.jobId),
  );
  if (!waiting.length || state.pollTimer) return;
  state.pollTimer = window.setTimeout(async () => {
    state.pollTimer = 0;
    const rows = [...tbody().rows].filter(
      (row) => !FINISHED.has(row.dataset.status) && !state.followers.has(row.dataset.jobId),
    );
    for (const row of rows.slice(0, 20)) {
      try {
        upsert(await get(`/status/${encodeURIComponent(row.dataset.jobId)}`));
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) row.remove();
      }
    }
    schedulePoll();
  }, POLL_MS);
}

function filters() {
  return { client: $("filter-client").value, status: $("filter-status").value };
}

async function loadJobs({ reset }) {
  const generation = reset ? ++state.generation : state.generation;
  const cursor = reset ? null : state.cursor;
  try {
    const page = await get(`/jobs${query({ ...filters(), limit: 25, cursor })}`);
    if (generation !== state.generation) return; // the filters changed meanwhile
    showError("jobs-error", "");
    if (reset) {
      for (const control of state.followers.values()) control.abort();
      state.followers.clear();
      tbody().replaceChildren();
    }
    for (const job of page.jobs) upsert(job);
    state.cursor = page.next_cursor;
    $("more").hidden = !state.cursor;
    $("jobs-empty").hidden = tbody().rows.length > 0;
  } catch (error) {
    showError("jobs-error", error.message);
  }
}

/** New jobs (queued by anyone) appear on top; the rows shown are kept. */
async function refreshTop() {
  const generation = state.generation;
  try {
    const page = await get(`/jobs${query({ ...filters(), limit: 25 })}`);
    if (generation === state.generation) for (const job of page.jobs) upsert(job);
  } catch {
    // the next refresh tries again; errors of user actions are shown where they happen
  }
}

function filtersChanged() {
  const url = new URL(window.location.href);
  const { client, status } = filters();
  for (const [key, value] of Object.entries({ client, status })) {
    if (value) url.searchParams.set(key, value);
    else url.searchParams.delete(key);
  }
  window.history.replaceState(null, "", url);
  loadJobs({ reset: true });
}

function filtersFromUrl() {
  const params = new URLSearchParams(window.location.search);
  for (const [key, id] of [["client", "filter-client"], ["status", "filter-status"]]) {
    const value = params.get(key);
    const select = $(id);
    if (value && [...select.options].some((o) => o.value === value)) select.value = value;
  }
  if (params.get("client") && state.clients.has(params.get("client"))) {
    input("client_id").value = params.get("client");
  }
}

// --- ordering and previews ---------------------------------------------------------------------

async function order(event) {
  event.preventDefault();
  clearErrors();
  const button = $("generate");
  button.disabled = true;
  try {
    const { job_id: id } = await post("/generate", requestBody());
    announce("Job queued.");
    upsert(await get(`/status/${encodeURIComponent(id)}`));
  } catch (error) {
    if (error instanceof ApiError) showErrors(error);
    else showError("form-error", String(error));
  } finally {
    button.disabled = false;
  }
}

async function preview() {
  clearErrors();
  const button = $("preview");
  button.disabled = true;
  try {
    const { job_id: id } = await post("/generate-prompt", promptBody());
    let job = await get(`/prompt/${encodeURIComponent(id)}`);
    for (let i = 0; i < 240 && !FINISHED.has(job.status); i += 1) {
      await sleep(250);
      job = await get(`/prompt/${encodeURIComponent(id)}`);
    }
    $("prompt-preview").hidden = false;
    if (job.status === "completed") {
      const meta = job.metadata || {};
      $("prompt-meta").textContent = `Template ${meta.template_version || "?"}, strategy version ${
        meta.strategy_version ?? "?"}. No model was called.`;
      $("prompt-text").textContent = job.prompt || "";
    } else {
      $("prompt-meta").textContent = `The prompt could not be built: ${job.error || job.status}`;
      $("prompt-text").textContent = "";
    }
    $("prompt-title").focus();
  } catch (error) {
    if (error instanceof ApiError) showErrors(error);
    else showError("form-error", String(error));
  } finally {
    button.disabled = false;
  }
}

async function main() {
  setLive("sse");
  fillClients(await signIn());
  filtersFromUrl();
  $("order").addEventListener("submit", order);
  $("preview").addEventListener("click", preview);
  $("filter-client").addEventListener("change", filtersChanged);
  $("filter-status").addEventListener("change", filtersChanged);
  $("filters").addEventListener("submit", (event) => event.preventDefault());
  $("refresh").addEventListener("click", () => loadJobs({ reset: true }));
  $("more").addEventListener("click", () => loadJobs({ reset: false }));
  await loadJobs({ reset: true });
  window.setInterval(refreshTop, REFRESH_MS);
  document.body.dataset.ready = "true";
}

main().catch(fatal);
