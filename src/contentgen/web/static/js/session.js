// Sign-in with a token: the page asks for one when the API answers 401, keeps it in
// sessionStorage, and shows the API's reason when a token is refused.
import { ApiError, clearToken, get, getToken, setToken } from "./api.js";
import { $ } from "./dom.js";

const REASON = "contentgen.signin-reason";

function claims(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), "=")));
  } catch {
    return {};
  }
}

function showWho() {
  const token = getToken();
  $("who").hidden = false;
  if (!token) {
    $("who-label").textContent = "Open server (no sign-in)";
    $("sign-out").hidden = true;
    return;
  }
  const c = claims(token);
  const scope = c.clients === "*" ? "all clients" : `${(c.clients || []).length} client(s)`;
  $("who-label").textContent = `Signed in${c.sub ? ` as ${c.sub}` : ""} (${scope}${c.admin ? ", admin" : ""})`;
  $("sign-out").hidden = false;
}

function askForToken(message) {
  const box = $("signin");
  const form = $("signin-form");
  const input = $("token");
  const error = $("token-error");
  $("main").hidden = true;
  $("who").hidden = true;
  box.hidden = false;
  error.textContent = message || "";
  error.hidden = !message;
  if (message) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
  input.value = "";
  input.focus();
  return new Promise((resolve) => {
    const onSubmit = (event) => {
      event.preventDefault();
      const token = input.value.trim();
      if (!token) {
        error.textContent = "Enter a token.";
        error.hidden = false;
        input.setAttribute("aria-invalid", "true");
        input.focus();
        return;
      }
      form.removeEventListener("submit", onSubmit);
      setToken(token);
      resolve();
    };
    form.addEventListener("submit", onSubmit);
  });
}

/** Resolves with the clients the token may use, once the API accepts the token. */
export async function signIn() {
  $("sign-out").addEventListener("click", () => {
    clearToken();
    window.location.reload();
  });
  let message = sessionStorage.getItem(REASON) || "";
  sessionStorage.removeItem(REASON);
  for (;;) {
    try {
      const body = await get("/clients");
      $("signin").hidden = true;
      $("main").hidden = false;
      showWho();
      // a token that expires later: sign in again, saying why
      document.addEventListener("contentgen:unauthorized", (event) => {
        sessionStorage.setItem(REASON, event.detail.message);
        clearToken();
        window.location.reload();
      }, { once: true });
      return body.clients;
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401) throw error;
      message = getToken() ? error.message : message;
      clearToken();
      await askForToken(message);
    }
  }
}

/** Show the page's first error where the content would be (for a failed start-up). */
export function fatal(error) {
  const main = $("main");
  main.hidden = false;
  $("signin").hidden = true;
  const p = document.createElement("p");
  p.className = "form-error";
  p.setAttribute("role", "alert");
  p.textContent = error instanceof Error ? error.message : String(error);
  main.prepend(p);
}
