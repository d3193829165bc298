// One client: its effective strategy with where each field comes from, its SEO rules,
// preferences and templates, its strategy history, and this month's spend against its budget
// when the API reports one.
import { get } from "./api.js";
import { $, h, money, plain, showError, when } from "./dom.js";
import { fatal, signIn } from "./session.js";

const ref = $("client").dataset.ref;

const SECTIONS = {
  content_guidelines: "Content guidelines",
  seo_focus: "SEO focus",
  tone: "Tone",
};

function label(key) {
  return key.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
}

function strategyRows(setup) {
  const rows = [];
  for (const [section, fields] of Object.entries(setup.config || {})) {
    for (const [field, value] of Object.entries(fields || {})) {
      const path = `${section}.${field}`;
      const origin = setup.origins ? setup.origins[path] : null;
      rows.push(h("tr", { dataset: { field: path } },
        h("th", { scope: "row" }, `${SECTIONS[section] || label(section)}: ${label(field)}`),
        h("td", null, value === null || value === undefined ? "not set" : plain(value)),
        h("td", { class: "origin" }, origin || "—")));
    }
  }
  return rows;
}

function extraRows(setup) {
  const rows = [];
  for (const [name, rule] of Object.entries(setup.seo_rules || {})) {
    rows.push(h("tr", null, h("td", null, "SEO rule"), h("th", { scope: "row" }, name),
      h("td", null, rule.value), h("td", { class: "origin" }, rule.origin)));
  }
  for (const [key, pref] of Object.entries(setup.preferences || {})) {
    rows.push(h("tr", null, h("td", null, "Preference"), h("th", { scope: "row" }, key),
      h("td", null, pref.value), h("td", { class: "origin" }, pref.origin)));
  }
  for (const [type, template] of Object.entries(setup.templates || {})) {
    const origin = (setup.template_origins || {})[type] || "—";
    rows.push(h("tr", null, h("td", null, "Template"), h("th", { scope: "row" }, type),
      h("td", null, `version ${template.version}`), h("td", { class: "origin" }, origin)));
  }
  if (!rows.length) {
    rows.push(h("tr", null, h("td", { colspan: 4, class: "hint" }, "None: the built-in ones apply.")));
  }
  return rows;
}

/** The budget block, only when the API reports one: {limit, spent, reserved?, month?}. */
function renderBudget(budget) {
  if (!budget || typeof budget !== "object") return;
  const limit = budget.limit ?? budget.monthly ?? budget.amount;
  const spent = budget.spent ?? budget.spend;
  if (typeof limit !== "number" || typeof spent !== "number") return;
  const reserved = typeof budget.reserved === "number" && budget.reserved > 0
    ? `, ${money(budget.reserved)} reserved for running jobs` : "";
  const origin = budget.origin ? ` (budget set on ${budget.origin})` : "";
  $("budget-text").textContent = `${money(spent)} of ${money(limit)}${reserved}${origin}.`;
  const meter = $("budget-meter");
  meter.max = limit;
  meter.value = Math.min(spent, limit);
  meter.high = limit * 0.8;
  meter.textContent = `${Math.round((spent / limit) * 100)}%`;
  $("budget-section").hidden = false;
}

async function main() {
  await signIn();
  let view;
  try {
    view = await get(`/clients/${encodeURIComponent(ref)}`);
  } catch (error) {
    $("client-title").textContent = error.status === 404 ? "Client not found" : "Client";
    showError("client-error", error.message);
    document.body.dataset.ready = "true";
    return;
  }
  const { client, setup } = view;
  document.title = `${client.name} · contentgen`;
  $("client-title").textContent = client.name;
  const ancestors = (setup.chain || []).slice(1).map((c) => c.name);
  $("client-chain").textContent = ancestors.length
    ? `Inherits from ${ancestors.join(" ← ")}.` : "Inherits from no other client.";
  $("strategy-summary").textContent = setup.strategy_version
    ? `Strategy version ${setup.strategy_version} of ${setup.strategy_origin}; fields it does `
      + "not set come from the clients it inherits from."
    : "No strategy set here or above: the built-in defaults apply.";
  $("strategy").tBodies[0].replaceChildren(...strategyRows(setup));
  $("extras").tBodies[0].replaceChildren(...extraRows(setup));
  $("client-jobs").href = `/?client=${encodeURIComponent(client.id)}`;
  renderBudget(view.budget);
  try {
    const { versions, history } = await get(`/clients/${encodeURIComponent(client.id)}/strategy/history`);
    const rows = history.map((entry) => h("tr", null,
      h("td", null, String(entry.version)),
      h("td", null, entry.action),
      h("td", null, entry.changes.length ? entry.changes.join("; ") : "—"),
      h("td", null, when(entry.created_at))));
    if (!rows.length) {
      rows.push(h("tr", null, h("td", { colspan: 4, class: "hint" },
        versions.length ? "No history recorded." : "This client has no strategy of its own.")));
    }
    $("history").tBodies[0].replaceChildren(...rows);
  } catch (error) {
    showError("client-error", error.message);
  }
  document.body.dataset.ready = "true";
}

main().catch(fatal);
