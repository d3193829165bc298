// The public HTTP API of contentgen, from the browser: JSON requests with the bearer token
// the person signed in with (kept in sessionStorage: this tab only), and server-sent events
// read over fetch (EventSource cannot send an Authorization header).

const KEY = "contentgen.token";

export function getToken() {
  try {
    return sessionStorage.getItem(KEY) || "";
  } catch {
    return "";
  }
}

export function setToken(token) {
  sessionStorage.setItem(KEY, token);
}

export function clearToken() {
  sessionStorage.removeItem(KEY);
}

/** An answer that is not 2xx: the API's {error, details} body. */
export class ApiError extends Error {
  constructor(status, body) {
    const message = body && typeof body.error === "string" ? body.error : `HTTP ${status}`;
    super(message);
    this.status = status;
    this.details = body && body.details && typeof body.details === "object" ? body.details : {};
  }
}

function headers(accept) {
  const result = { Accept: accept };
  const token = getToken();
  if (token) result.Authorization = `Bearer ${token}`;
  return result;
}

export async function api(method, path, body) {
  const init = { method, headers: headers("application/json"), cache: "no-store", credentials: "omit" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, { error: "The server did not answer; check the connection and try again." });
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const error = new ApiError(response.status, data);
    if (response.status === 401) {
      document.dispatchEvent(new CustomEvent("contentgen:unauthorized", { detail: error }));
    }
    throw error;
  }
  return data;
}

export const get = (path) => api("GET", path);
export const post = (path, body) => api("POST", path, body === undefined ? {} : body);

/** "?a=1&b=2" from the non-empty values of params ("" when none). */
export function query(params) {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") q.set(key, String(value));
  }
  const text = q.toString();
  return text ? `?${text}` : "";
}

/**
 * Follow a server-sent event stream: onEvent({event, id, data}) for each event. Resolves when
 * the server ends the stream; rejects with ApiError when it refuses it or the connection drops.
 */
export async function follow(path, onEvent, signal) {
  let response;
  try {
    response = await fetch(path, {
      headers: headers("text/event-stream"), cache: "no-store", credentials: "omit", signal,
    });
  } catch (error) {
    if (signal && signal.aborted) return;
    throw new ApiError(0, { error: String(error) });
  }
  if (!response.ok || !response.body) {
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    throw new ApiError(response.status, data);
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let event = { event: "message", id: "", data: [] };
  for (;;) {
    let chunk;
    try {
      chunk = await reader.read();
    } catch (error) {
      if (signal && signal.aborted) return;
      throw new ApiError(0, { error: String(error) });
    }
    if (chunk.done) return;
    buffer += chunk.value;
    // a "\r" at the end may be the first half of "\r\n": keep it for the next chunk
    const cut = buffer.endsWith("\r") ? buffer.length - 1 : buffer.length;
    const lines = buffer.slice(0, cut).split(/\r\n|\r|\n/);
    buffer = lines.pop() + buffer.slice(cut);
    for (const line of lines) {
      if (line === "") {
        if (event.data.length) onEvent({ event: event.event, id: event.id, data: event.data.join("\n") });
        event = { event: "message", id: event.id, data: [] };
      } else if (!line.startsWith(":")) {
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? "" : line.slice(colon + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (field === "event") event.event = value;
        else if (field === "data") event.data.push(value);
        else if (field === "id") event.id = value;
      }
    }
  }
}

export const FINISHED = new Set(["completed", "failed", "cancelled"]);
