// The order form: every field of a content request, and the API's validation messages shown
// beside the fields they concern (the 400 body's details.field and details.errors[].field).
import { $, showError } from "./dom.js";

export const FIELDS = ["client_id", "topic", "content_type", "keywords", "length", "priority", "model"];
const INPUT = {
  client_id: "f-client", topic: "f-topic", content_type: "f-type", keywords: "f-keywords",
  length: "f-length", priority: "f-priority", model: "f-model",
};
const ALIASES = { client: "client_id", type: "content_type", llm_provider: "model" };

export function input(field) {
  return $(INPUT[field]);
}

/** The request body of the form, as POST /generate takes it. */
export function requestBody() {
  const body = {
    client_id: input("client_id").value,
    topic: input("topic").value,
    content_type: input("content_type").value,
    keywords: input("keywords").value.split(",").map((k) => k.trim()).filter(Boolean),
    length: input("length").value,
    priority: input("priority").value,
  };
  const model = input("model").value.trim();
  if (model) body.model = model;
  return body;
}

/** The fields POST /generate-prompt takes. */
export function promptBody() {
  const { topic, content_type, client_id, keywords, length } = requestBody();
  return { topic, content_type, client_id, keywords, length };
}

export function clearErrors() {
  for (const field of FIELDS) {
    showError(`err-${field}`, "");
    input(field).removeAttribute("aria-invalid");
  }
  showError("form-error", "");
}

function fieldOf(name) {
  if (!name) return null;
  const base = String(name).split(".")[0];
  const field = ALIASES[base] || base;
  return FIELDS.includes(field) ? field : null;
}

function entryMessage(entry) {
  const text = String(entry.message || "invalid").replace(/^Value error, /, "");
  return `${entry.field}: ${text}`;
}

/** Put an ApiError's messages beside its fields; the rest above the form. */
export function showErrors(error) {
  const messages = new Map();
  const details = error.details || {};
  const main = fieldOf(details.field);
  if (main) messages.set(main, error.message);
  for (const entry of Array.isArray(details.errors) ? details.errors : []) {
    const field = fieldOf(entry && entry.field);
    if (field && !messages.has(field)) messages.set(field, entryMessage(entry));
  }
  if (!messages.size && error.status === 404 && /client/i.test(error.message)) {
    messages.set("client_id", error.message);
  }
  let first = null;
  for (const [field, message] of messages) {
    showError(`err-${field}`, message);
    input(field).setAttribute("aria-invalid", "true");
    first = first || input(field);
  }
  if (first) {
    first.focus();
  } else {
    showError("form-error", error.message);
    $("form-error").focus();
  }
}
