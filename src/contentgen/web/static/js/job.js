// One job: the piece (HTML that the API rendered from Markdown and sanitised), its details,
// compliance report and cost; copy and download the Markdown; retry and cancel. An unfinished
// job is followed live (server-sent events, polling when no stream can be had).
import { ApiError, FINISHED, follow, get, post } from "./api.js";
import { $, announce, badge, h, money, plain, showError, sleep, when } from "./dom.js";
import { fatal, signIn } from "./session.js";

const jobId = $("job").dataset.jobId;
const path = `/status/${encodeURIComponent(jobId)}`;
let current = null;
let following = false;

function slug(text) {
  const base = String(text || "").normalize("NFKD").replace(/[\u0300-\u036f]/g, "")
    .toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 80);
  return base || `job-${jobId.slice(0, 8)}`;
}

function detail(term, value) {
  if (value === null || value === undefined || value === "") return [];
  return [h("dt", null, term), h("dd", null, value)];
}

async function clientName(id) {
  try {
    return (await get(`/clients/${encodeURIComponent(id)}`)).client.name;
  } catch {
    return id;
  }
}

async function renderDetails(job) {
  const p = job.params;
  const meta = job.result ? job.result.metadata : null;
  const name = await clientName(p.client_id);
  const rows = [
    ...detail("Client", h("a", { href: `/web/clients/${encodeURIComponent(p.client_id)}` }, name)),
    ...detail("Type", p.content_type),
    ...detail("Length", p.length),
    ...detail("Priority", p.priority),
    ...detail("Keywords asked", plain(p.keywords)),
    ...detail("Model asked", p.model || "server's choice"),
  ];
  if (meta) {
    const tokens = meta.token_usage || {};
    rows.push(
      ...detail("Written by", meta.model.startsWith(`${meta.llm_provider}/`)
        ? meta.model : `${meta.model} (${meta.llm_provider})`),
      ...detail("Words", String(meta.word_count)),
      ...detail("Cost", money(meta.generation_cost)),
      ...detail("Generation time", `${(meta.generation_time_ms / 1000).toFixed(1)} s`),
      ...detail("Tokens", `${tokens.input ?? "?"} in, ${tokens.output ?? "?"} out`),
      ...detail("Keywords used", plain(meta.keywords_used)),
      ...detail("SEO notes", meta.seo_notes),
    );
  }
  rows.push(
    ...detail("Strategy version", job.strategy_version == null ? null : String(job.strategy_version)),
    ...detail("Template version", job.template_version),
    ...detail("Created", when(job.created_at)),
    ...detail("Updated", when(job.updated_at)),
    ...detail("Job id", h("code", null, job.job_id)),
  );
  $("details").replaceChildren(...rows);
}

function renderCompliance(job) {
  const report = job.result && job.result.metadata.compliance;
  $("compliance-section").hidden = !report;
  if (!report) return;
  const checks = Array.isArray(report.checks) ? report.checks : [];
  const passed = checks.filter((c) => c.passed).length;
  $("compliance-score").textContent = `Score ${Math.round(report.score * 100)}%: ${passed} of ${
    checks.length} checks passed.`;
  $("compliance").tBodies[0].replaceChildren(...checks.map((check) => h("tr",
    { class: check.passed ? "pass" : "fail" },
    h("th", { scope: "row" }, check.name),
    h("td", null, check.passed ? "passed" : "failed"),
    h("td", null, plain(check.measured)),
    h("td", null, check.target == null ? "—" : String(check.target)))));
}

async function renderPiece(job) {
  const piece = $("piece");
  if (job.status === "completed" && job.result) {
    const body = await get(`/jobs/${encodeURIComponent(jobId)}/html`);
    // sanitised by the API (markdown-it without raw HTML, then nh3); the page's
    // Content-Security-Policy forbids inline scripts besides
    piece.innerHTML = body.html;
    return;
  }
  const text = {
    pending: "Waiting for a worker to take this job…",
    in_progress: "Being written…",
    failed: `This job failed: ${job.error || "no reason given"}`,
    cancelled: "This job was cancelled.",
  }[job.status] || job.status;
  piece.replaceChildren(h("p", { class: job.status === "failed" ? "form-error" : "hint" }, text));
}

function renderActions(job) {
  const done = job.status === "completed" && job.result;
  $("job-actions").hidden = false;
  $("copy").disabled = !done;
  $("download").disabled = !done;
  $("retry").disabled = !["failed", "cancelled"].includes(job.status);
  $("cancel").disabled = FINISHED.has(job.status);
}

async function render(job) {
  const before = current ? current.status : null;
  current = job;
  document.title = `${job.result ? job.result.title : job.params.topic} · contentgen`;
  $("job-title").textContent = job.result ? job.result.title : job.params.topic;
  $("job-status").replaceChildren(badge(job.status));
  $("job").dataset.status = job.status;
  renderActions(job);
  renderCompliance(job);
  await renderPiece(job);
  await renderDetails(job);
  if (before && before !== job.status) announce(`The job is ${job.status.replace("_", " ")}.`);
  if (!FINISHED.has(job.status)) watch();
}

async function watch() {
  if (following) return;
  following = true;
  try {
    try {
      await follow(`${path}/events`, (event) => {
        if (event.event === "status") render(JSON.parse(event.data));
      });
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return;
      document.body.dataset.live = "polling";
    }
    while (current && !FINISHED.has(current.status)) {
      await sleep(2000);
      await render(await get(path));
    }
  } finally {
    following = false;
  }
}

async function act(action) {
  showError("job-error", "");
  try {
    await render(await post(`/jobs/${encodeURIComponent(jobId)}/${action}`));
  } catch (error) {
    showError("job-error", error.message);
  }
}

function download() {
  const blob = new Blob([current.result.content], { type: "text/markdown;charset=utf-8" });
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: `${slug(current.result.title)}.md`, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 60000);
  announce("Markdown downloaded.");
}

async function copy() {
  const text = current.result.content;
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = h("textarea", { class: "visually-hidden", readonly: true });
    area.value = text;
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  announce("Markdown copied.");
  $("copy").textContent = "Copied";
  window.setTimeout(() => { $("copy").textContent = "Copy Markdown"; }, 2000);
}

async function main() {
  await signIn();
  document.body.dataset.live = "sse";
  $("copy").addEventListener("click", copy);
  $("download").addEventListener("click", download);
  $("retry").addEventListener("click", () => act("retry"));
  $("cancel").addEventListener("click", () => act("cancel"));
  try {
    await render(await get(path));
  } catch (error) {
    $("job-title").textContent = error.status === 404 ? "Job not found" : "Job";
    $("piece").replaceChildren();
    showError("job-error", error.message);
  }
  document.body.dataset.ready = "true";
}

main().catch(fatal);
