// A small Markdown renderer for answers (model text is untrusted). It builds DOM nodes and puts
// every piece of text in as a text node: raw HTML in the input is shown as text, never parsed,
// so there is nothing to escape and nothing to sanitise afterwards. Links keep only http(s) and
// mailto targets and open with rel="noopener noreferrer".
//
// Blocks: headings, paragraphs (line breaks kept: tool summaries are line-oriented), bullet and
// numbered lists, block quotes, fenced code, horizontal rules, pipe tables.
// Inline: `code`, **bold**, *italic* / _italic_, [links](https://…), bare https:// links.

import { h } from "./dom.js";

const FENCE = /^\s*(```+|~~~+)\s*([\w+-]*)\s*$/;
const HEADING = /^(#{1,6})\s+(.*?)\s*#*\s*$/;
const BULLET = /^\s*[-*+]\s+(.*)$/;
const NUMBERED = /^\s*(\d{1,9})[.)]\s+(.*)$/;
const QUOTE = /^\s*>\s?(.*)$/;
const RULE = /^\s*([-*_])(\s*\1){2,}\s*$/;
const TABLE_DIVIDER = /^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/;
const SAFE_PROTOCOLS = new Set(["http:", "https:", "mailto:"]);

/** Render `text` as a DocumentFragment. */
export function renderMarkdown(text) {
  const fragment = document.createDocumentFragment();
  const lines = String(text ?? "").replace(/\r\n?/g, "\n").split("\n");
  let index = 0;
  while (index < lines.length) {
    const [node, next] = block(lines, index);
    if (node) fragment.append(node);
    index = next;
  }
  return fragment;
}

function block(lines, start) {
  const line = lines[start];
  if (!line.trim()) return [null, start + 1];
  const fence = FENCE.exec(line);
  if (fence) return codeBlock(lines, start, fence);
  const heading = HEADING.exec(line);
  // headings inside a message sit below the page's own: # is an h3
  if (heading) return [h(`h${Math.min(heading[1].length + 2, 6)}`, {}, inline(heading[2])), start + 1];
  if (RULE.test(line)) return [h("hr"), start + 1];
  if (isTableStart(lines, start)) return table(lines, start);
  if (BULLET.test(line)) return list(lines, start, "ul", BULLET);
  if (NUMBERED.test(line)) return list(lines, start, "ol", NUMBERED);
  if (QUOTE.test(line)) return quote(lines, start);
  return paragraph(lines, start);
}

function codeBlock(lines, start, fence) {
  const body = [];
  let index = start + 1;
  while (index < lines.length && !lines[index].trim().startsWith(fence[1])) {
    body.push(lines[index]);
    index += 1;
  }
  const code = h("code", { text: body.join("\n") });
  if (fence[2]) code.className = `language-${fence[2]}`;
  return [h("pre", {}, code), index + 1];
}

function list(lines, start, tag, pattern) {
  const items = [];
  let index = start;
  let first = null;
  while (index < lines.length) {
    const match = pattern.exec(lines[index]);
    if (!match) break;
    if (tag === "ol" && first === null) first = Number(match[1]);
    const content = tag === "ol" ? match[2] : match[1];
    items.push(h("li", {}, inline(content)));
    index += 1;
  }
  const element = h(tag, {}, items);
  if (first !== null && first !== 1) element.setAttribute("start", String(first));
  return [element, index];
}

function quote(lines, start) {
  const body = [];
  let index = start;
  while (index < lines.length && QUOTE.test(lines[index])) {
    body.push(QUOTE.exec(lines[index])[1]);
    index += 1;
  }
  return [h("blockquote", {}, renderMarkdown(body.join("\n"))), index];
}

function paragraph(lines, start) {
  const parts = [];
  let index = start;
  while (index < lines.length && lines[index].trim() && !startsBlock(lines, index)) {
    if (parts.length) parts.push(h("br"));
    parts.push(...inline(lines[index]));
    index += 1;
  }
  return [h("p", {}, parts), index];
}

function startsBlock(lines, index) {
  const line = lines[index];
  return (
    FENCE.test(line) ||
    HEADING.test(line) ||
    BULLET.test(line) ||
    NUMBERED.test(line) ||
    QUOTE.test(line) ||
    isTableStart(lines, index)
  );
}

function isTableStart(lines, index) {
  return lines[index].includes("|") && index + 1 < lines.length && TABLE_DIVIDER.test(lines[index + 1]);
}

function cells(line) {
  let row = line.trim();
  if (row.startsWith("|")) row = row.slice(1);
  if (row.endsWith("|")) row = row.slice(0, -1);
  return row.split("|").map((cell) => cell.trim());
}

function table(lines, start) {
  const head = h("tr", {}, cells(lines[start]).map((cell) => h("th", { scope: "col" }, inline(cell))));
  const rows = [];
  let index = start + 2;
  while (index < lines.length && lines[index].includes("|") && lines[index].trim()) {
    rows.push(h("tr", {}, cells(lines[index]).map((cell) => h("td", {}, inline(cell)))));
    index += 1;
  }
  const element = h("table", {}, h("thead", {}, head), h("tbody", {}, rows));
  return [h("div", { class: "table-scroll" }, element), index];
}

// ---------------------------------------------------------------------------- inline

const INLINE = new RegExp(
  [
    /(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/.source, // 1, 2: code span
    /\[([^\]\n]+)\]\(\s*<?([^()\s<>]+)>?\s*\)/.source, // 3, 4: [text](url)
    /\*\*(?=\S)([\s\S]*?\S)\*\*/.source, // 5: **bold**
    /(?<!\w)__(?=\S)([\s\S]*?\S)__(?!\w)/.source, // 6: __bold__
    /\*(?=[^\s*])([^*]*?[^\s*])\*/.source, // 7: *italic*
    /(?<!\w)_(?=[^\s_])([^_]*?[^\s_])_(?!\w)/.source, // 8: _italic_ (not inside snake_case)
    /(https?:\/\/[^\s<>()"']*[^\s<>()"'.,;:!?])/.source, // 9: a bare link
  ].join("|"),
  "g",
);

/** The nodes of one line of inline Markdown. */
export function inline(text) {
  const nodes = [];
  let last = 0;
  for (const match of String(text).matchAll(INLINE)) {
    if (match.index > last) nodes.push(document.createTextNode(text.slice(last, match.index)));
    nodes.push(inlineNode(match));
    last = match.index + match[0].length;
  }
  if (last < text.length) nodes.push(document.createTextNode(text.slice(last)));
  return nodes;
}

function inlineNode(match) {
  if (match[2] !== undefined) return h("code", { text: match[2] });
  if (match[3] !== undefined) return link(match[4], inline(match[3]), match[0]);
  if (match[5] !== undefined) return h("strong", {}, inline(match[5]));
  if (match[6] !== undefined) return h("strong", {}, inline(match[6]));
  if (match[7] !== undefined) return h("em", {}, inline(match[7]));
  if (match[8] !== undefined) return h("em", {}, inline(match[8]));
  return link(match[9], [match[9]], match[0]);
}

/** A link when the target is safe; otherwise the original text, as text. */
function link(target, content, original) {
  const href = safeUrl(target);
  if (!href) return document.createTextNode(original);
  return h("a", { href, target: "_blank", rel: "noopener noreferrer nofollow" }, content);
}

export function safeUrl(target) {
  // absolute targets only: a relative one would quietly point into this service
  if (!/^(https?:\/\/|mailto:)/i.test(target)) return null;
  try {
    const url = new URL(target, window.location.href);
    return SAFE_PROTOCOLS.has(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}
