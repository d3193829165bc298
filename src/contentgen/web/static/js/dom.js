// DOM building with text only: every value from the API goes in as a text node or an
// attribute value, never as markup.

export function h(tag, attrs, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") element.className = value;
    else if (key === "dataset") Object.assign(element.dataset, value);
    else element.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

export const $ = (id) => document.getElementById(id);

const STATUS = {
  pending: "Pending",
  in_progress: "In progress",
  completed: "Completed",
  failed: "Failed",
  cancelled: "Cancelled",
};

export function statusLabel(status) {
  return STATUS[status] || String(status);
}

export function badge(status) {
  return h("span", { class: `badge status-${status}`, dataset: { status } }, statusLabel(status));
}

const small = new Intl.NumberFormat("en-US", {
  style: "currency", currency: "USD", maximumSignificantDigits: 3,
});
const large = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });

export function money(value) {
  if (typeof value !== "number" || !Number.isFinite(value)) return "unknown";
  if (value === 0) return "$0";
  return value < 1 ? small.format(value) : large.format(value);
}

export function when(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return h("time", { datetime: iso }, date.toLocaleString());
}

/** "83%" for a compliance report, "—" when the result has none. */
export function complianceText(metadata) {
  const report = metadata && metadata.compliance;
  if (!report || typeof report.score !== "number") return "—";
  return `${Math.round(report.score * 100)}%`;
}

export function announce(text) {
  const region = $("announce");
  region.textContent = "";
  // a new text node each time, so a repeated message is read again
  window.setTimeout(() => {
    region.textContent = text;
  }, 50);
}

export function showError(id, message) {
  const element = $(id);
  element.textContent = message || "";
  element.hidden = !message;
}

export const sleep = (ms) => new Promise((resolve) => window.setTimeout(resolve, ms));

export function plain(value) {
  if (value === null || value === undefined) return "—";
  if (Array.isArray(value)) return value.length ? value.map(plain).join(", ") : "none";
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}
