// The clients this token may use, with links to their pages.
import { $, h, showError } from "./dom.js";
import { fatal, signIn } from "./session.js";

async function main() {
  const clients = await signIn();
  const byId = new Map(clients.map((c) => [c.id, c]));
  $("clients").replaceChildren(...clients.map((client) => {
    const parent = client.parent_id ? byId.get(client.parent_id) : null;
    return h("li", null,
      h("a", { href: `/web/clients/${encodeURIComponent(client.id)}` }, client.name),
      parent ? h("span", { class: "hint" }, ` (inherits from ${parent.name})`) : null);
  }));
  if (!clients.length) showError("clients-error", "This token may use no client.");
  document.body.dataset.ready = "true";
}

main().catch(fatal);
