// The page's hash routes: `#/` (the chat), `#/incidents`, `#/incidents/<id>`, `#/policies`,
// `#/channels`. A hash that does not start with `#/` (a skip link's target) is no route.

const SECTIONS = new Set(["chat", "incidents", "policies", "channels"]);

/**
 * `{ section, id, query }` for a hash; `section` is "unknown" for a `#/` path this page does not
 * have, and the result is null for a hash that is not a route at all.
 */
export function parseHash(hash) {
  const raw = hash.startsWith("#") ? hash.slice(1) : hash;
  if (raw === "") return { section: "chat", id: null, query: new URLSearchParams() };
  if (!raw.startsWith("/")) return null;
  const [path, search = ""] = raw.split("?", 2);
  const parts = path.split("/").filter(Boolean).map(decodePart);
  const query = new URLSearchParams(search);
  if (parts.length === 0) return { section: "chat", id: null, query };
  const [section, id = null, ...rest] = parts;
  if (!SECTIONS.has(section) || rest.length || (id !== null && section !== "incidents")) {
    return { section: "unknown", id: null, query };
  }
  return { section, id, query };
}

function decodePart(part) {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** The hash of a route: `hrefFor("incidents", { id })`, `hrefFor("incidents", { query })`. */
export function hrefFor(section, { id = null, query = null } = {}) {
  if (section === "chat") return "#/";
  let hash = `#/${section}`;
  if (id) hash += `/${encodeURIComponent(id)}`;
  const search = query ? new URLSearchParams(query).toString() : "";
  return search ? `${hash}?${search}` : hash;
}

export function navigate(hash) {
  if (window.location.hash !== hash) window.location.hash = hash;
}
