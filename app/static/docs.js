// A small offline viewer for the service's OpenAPI document: every operation by tag, with its
// parameters, request body and responses; the schemas at the end. No code from elsewhere.
"use strict";

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  for (const child of children) node.append(child);
  return node;
}

function typeOf(schema) {
  if (!schema) return "";
  if (schema.$ref) return schema.$ref.split("/").pop();
  if (schema.anyOf) return schema.anyOf.map(typeOf).join(" | ");
  if (schema.type === "array") return `${typeOf(schema.items)}[]`;
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
  return schema.format ? `${schema.type} (${schema.format})` : schema.type || "object";
}

function table(headings, rows) {
  const head = el("tr", {}, ...headings.map((h) => el("th", {}, h)));
  const body = rows.map((cells) => el("tr", {}, ...cells.map((c) => el("td", {}, c))));
  return el("table", { class: "api-table" }, el("thead", {}, head), el("tbody", {}, ...body));
}

function parametersOf(operation) {
  const rows = (operation.parameters || []).map((p) => [
    el("code", {}, p.name), p.in, typeOf(p.schema), p.required ? "yes" : "no", p.description || "",
  ]);
  return rows.length ? [el("h4", {}, "Parameters"), table(["name", "in", "type", "required", "meaning"], rows)] : [];
}

function bodyOf(operation) {
  const content = (operation.requestBody || {}).content || {};
  const rows = Object.entries(content).map(([type, media]) => [el("code", {}, type), typeOf(media.schema)]);
  return rows.length ? [el("h4", {}, "Request body"), table(["content type", "schema"], rows)] : [];
}

function responsesOf(operation) {
  const rows = Object.entries(operation.responses || {}).map(([code, answer]) => [
    el("code", {}, code), answer.description || "", Object.keys(answer.content || {}).join(", "),
  ]);
  return [el("h4", {}, "Responses"), table(["status", "meaning", "content types"], rows)];
}

function operationBlock(method, path, operation) {
  const summary = el("summary", {}, el("span", { class: `method ${method}` }, method),
    el("span", { class: "path" }, path), el("span", {}, operation.summary || ""));
  const body = el("div", { class: "body" });
  if (operation.description) body.append(el("p", { class: "description" }, operation.description));
  body.append(...parametersOf(operation), ...bodyOf(operation), ...responsesOf(operation));
  return el("details", { class: "operation", id: operation.operationId || `${method}-${path}` }, summary, body);
}

function render(spec) {
  const main = document.getElementById("api");
  const byTag = new Map();
  for (const [path, item] of Object.entries(spec.paths || {})) {
    for (const [method, operation] of Object.entries(item)) {
      if (!["get", "post", "put", "patch", "delete"].includes(method)) continue;
      const tag = (operation.tags || ["other"])[0];
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push(operationBlock(method, path, operation));
    }
  }
  const info = spec.info || {};
  const parts = [el("h2", {}, `${info.title || "API"} ${info.version || ""}`),
    el("p", { class: "description" }, info.description || ""),
    el("p", { class: "hint" }, `OpenAPI ${spec.openapi}`)];
  for (const [tag, blocks] of byTag) parts.push(el("section", { class: "panel" }, el("h2", {}, tag), ...blocks));
  const schemas = Object.entries((spec.components || {}).schemas || {}).map(([name, schema]) =>
    el("details", { class: "operation", id: `schema-${name}` }, el("summary", {}, el("code", {}, name)),
      el("pre", { class: "schema" }, JSON.stringify(schema, null, 2))));
  if (schemas.length) parts.push(el("section", { class: "panel" }, el("h2", {}, "Schemas"), ...schemas));
  main.replaceChildren(...parts);
}

fetch("/openapi.json")
  .then((response) => {
    if (!response.ok) throw new Error(`/openapi.json answered ${response.status}`);
    return response.json();
  })
  .then(render)
  .catch((error) => {
    document.getElementById("api-status").textContent = `Could not load the API description: ${error.message}`;
  });
