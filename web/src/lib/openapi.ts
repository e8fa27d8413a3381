// Reading wasp's OpenAPI document for the API reference page, and writing code samples.

export interface OpenApiParameter {
  name: string;
  in: "path" | "query" | "header" | "cookie";
  required?: boolean;
  description?: string;
  schema?: Schema;
}

export interface Schema {
  $ref?: string;
  type?: string | string[];
  format?: string;
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  oneOf?: Schema[];
  anyOf?: Schema[];
  allOf?: Schema[];
  example?: unknown;
  nullable?: boolean;
}

interface RawOperation {
  tags?: string[];
  summary?: string;
  description?: string;
  operationId?: string;
  parameters?: (OpenApiParameter | { $ref: string })[];
  requestBody?: { content?: Record<string, { schema?: Schema; example?: unknown }>; required?: boolean };
  responses?: Record<string, { description?: string }>;
}

export interface OpenApiDocument {
  info?: { title?: string; version?: string; description?: string };
  paths: Record<string, Record<string, RawOperation>>;
  components?: { schemas?: Record<string, Schema>; parameters?: Record<string, OpenApiParameter> };
}

export interface Operation {
  id: string;
  method: string;
  path: string;
  tag: string;
  summary: string;
  description: string;
  parameters: OpenApiParameter[];
  bodyType: "json" | "multipart" | null;
  bodySchema: Schema | null;
  responses: { status: string; description: string }[];
}

const METHODS = ["get", "post", "put", "patch", "delete"];

export function resolve(doc: OpenApiDocument, schema: Schema | undefined): Schema | undefined {
  let s = schema;
  for (let i = 0; s?.$ref && i < 10; i++) {
    const name = s.$ref.split("/").pop()!;
    s = doc.components?.schemas?.[name];
  }
  return s;
}

/** The operations under `prefix`, in the document's order, grouped by their first tag. */
export function operations(doc: OpenApiDocument, prefix = "/api/v1/"): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    if (!path.startsWith(prefix)) continue;
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const params = (op.parameters ?? [])
        .map((p) => ("$ref" in p ? doc.components?.parameters?.[p.$ref.split("/").pop()!] : p))
        .filter((p): p is OpenApiParameter => !!p && p.in !== "header" && p.in !== "cookie");
      const content = op.requestBody?.content ?? {};
      const json = content["application/json"];
      const multipart = content["multipart/form-data"];
      out.push({
        id: op.operationId ?? `${method}-${path}`,
        method: method.toUpperCase(),
        path,
        tag: op.tags?.[0] ?? "other",
        summary: op.summary ?? "",
        description: op.description ?? "",
        parameters: params,
        bodyType: json ? "json" : multipart ? "multipart" : null,
        bodySchema: (json ?? multipart)?.schema ?? null,
        responses: Object.entries(op.responses ?? {}).map(([status, r]) => ({ status, description: r.description ?? "" })),
      });
    }
  }
  return out;
}

/** An example value for a schema: its example, else a placeholder of its type. */
export function exampleOf(doc: OpenApiDocument, schema: Schema | undefined, depth = 0): unknown {
  const s = resolve(doc, schema);
  if (!s || depth > 4) return null;
  if (s.example !== undefined) return s.example;
  if (s.enum?.length) return s.enum[0];
  const alt = s.oneOf?.[0] ?? s.anyOf?.find((x) => resolve(doc, x)?.type !== "null") ?? s.allOf?.[0];
  if (alt) return exampleOf(doc, alt, depth + 1);
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== "null") : s.type;
  if (type === "object" || s.properties) {
    const obj: Record<string, unknown> = {};
    const required = new Set(s.required ?? []);
    for (const [k, v] of Object.entries(s.properties ?? {})) {
      if (required.has(k) || required.size === 0) obj[k] = exampleOf(doc, v, depth + 1);
    }
    return obj;
  }
  if (type === "array") return [exampleOf(doc, s.items, depth + 1)];
  if (type === "integer" || type === "number") return 0;
  if (type === "boolean") return false;
  if (s.format === "date-time") return new Date(0).toISOString();
  return "string";
}

/** The path with its parameters filled in (URL-encoded), for samples and the playground. */
export function fillPath(path: string, values: Record<string, string>): string {
  return path.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(values[name] ?? `{${name}}`));
}

export interface SampleInput {
  origin: string;
  method: string;
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  multipart?: boolean;
}

function urlOf(i: SampleInput): string {
  const qs = new URLSearchParams(Object.entries(i.query ?? {}).filter(([, v]) => v !== "")).toString();
  return `${i.origin}${i.path}${qs ? `?${qs}` : ""}`;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function curlSample(i: SampleInput): string {
  const lines = [`curl -s${i.method === "GET" ? "" : ` -X ${i.method}`} ${shellQuote(urlOf(i))}`, `  -H "X-API-Key: $WASP_API_KEY"`];
  if (i.multipart && i.body && typeof i.body === "object") {
    for (const [k, v] of Object.entries(i.body as Record<string, unknown>)) lines.push(`  -F ${shellQuote(`${k}=${String(v)}`)}`);
  } else if (i.body !== undefined && i.method !== "GET") {
    lines.push(`  -H 'Content-Type: application/json'`, `  -d ${shellQuote(JSON.stringify(i.body))}`);
  }
  return lines.join(" \\\n");
}

export function javascriptSample(i: SampleInput): string {
  const headers = [`"X-API-Key": process.env.WASP_API_KEY`];
  let body = "";
  if (i.body !== undefined && i.method !== "GET") {
    if (i.multipart) {
      const sets = Object.entries(i.body as Record<string, unknown>).map(([k, v]) => `form.set(${JSON.stringify(k)}, ${JSON.stringify(String(v))});`);
      return [
        "const form = new FormData();",
        ...sets,
        `const response = await fetch(${JSON.stringify(urlOf(i))}, {`,
        `  method: ${JSON.stringify(i.method)},`,
        `  headers: { ${headers.join(", ")} },`,
        "  body: form,",
        "});",
        "const { success, data, error } = await response.json();",
      ].join("\n");
    }
    headers.push(`"Content-Type": "application/json"`);
    body = `  body: JSON.stringify(${JSON.stringify(i.body, null, 2).replace(/\n/g, "\n  ")}),\n`;
  }
  return [
    `const response = await fetch(${JSON.stringify(urlOf(i))}, {`,
    `  method: ${JSON.stringify(i.method)},`,
    `  headers: { ${headers.join(", ")} },`,
    `${body}});`,
    "const { success, data, error } = await response.json();",
  ].join("\n");
}

export function pythonSample(i: SampleInput): string {
  const lines = ["import os", "import requests", "", `response = requests.${i.method.toLowerCase()}(`, `    ${JSON.stringify(urlOf(i))},`, `    headers={"X-API-Key": os.environ["WASP_API_KEY"]},`];
  if (i.body !== undefined && i.method !== "GET") {
    const py = JSON.stringify(i.body).replace(/\btrue\b/g, "True").replace(/\bfalse\b/g, "False").replace(/\bnull\b/g, "None");
    lines.push(i.multipart ? `    data=${py},` : `    json=${py},`);
  }
  lines.push(")", "print(response.json())");
  return lines.join("\n");
}
