"use client";
import * as React from "react";
import { useQuery } from "@tanstack/react-query";
import { PageHeader } from "@/components/app-shell";
import { CopyButton } from "@/components/copy-button";
import { Field } from "@/components/field";
import { Empty, ErrorState, Loading } from "@/components/states";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Input, Textarea } from "@/components/ui/input";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs";
import { api } from "@/lib/api/provider";
import { ApiError, errorMessage } from "@/lib/api/errors";
import {
  curlSample,
  exampleOf,
  fillPath,
  javascriptSample,
  operations,
  pythonSample,
  resolve,
  type OpenApiDocument,
  type Operation,
  type Schema,
} from "@/lib/openapi";
import { cn } from "@/lib/utils";

const METHOD_COLOURS: Record<string, string> = {
  GET: "bg-sky-500/15 text-sky-700 dark:text-sky-300",
  POST: "bg-primary/15 text-primary",
  PATCH: "bg-warning/25",
  PUT: "bg-warning/25",
  DELETE: "bg-destructive/15 text-destructive",
};

function Method({ m }: { m: string }) {
  return <span className={cn("inline-block w-14 shrink-0 rounded px-1 text-center font-mono text-[11px] font-semibold", METHOD_COLOURS[m])}>{m}</span>;
}

function typeName(doc: OpenApiDocument, s: Schema | undefined): string {
  if (!s) return "";
  if (s.$ref) return s.$ref.split("/").pop()!;
  const alt = s.oneOf ?? s.anyOf;
  if (alt) return alt.map((x) => typeName(doc, x)).filter((t) => t !== "null").join(" | ");
  const t = Array.isArray(s.type) ? s.type.filter((x) => x !== "null").join(" | ") : s.type ?? "";
  if (t === "array") return `${typeName(doc, s.items)}[]`;
  return s.enum ? s.enum.map((e) => JSON.stringify(e)).join(" | ") : t + (s.format ? ` (${s.format})` : "");
}

function SchemaFields({ doc, schema }: { doc: OpenApiDocument; schema: Schema | null }) {
  const s = resolve(doc, schema ?? undefined);
  if (!s?.properties) return <p className="text-sm text-muted-foreground">{s ? typeName(doc, schema ?? undefined) : "No body."}</p>;
  const required = new Set(s.required ?? []);
  return (
    <table className="w-full text-sm">
      <caption className="sr-only">Body fields</caption>
      <tbody className="divide-y">
        {Object.entries(s.properties).map(([name, p]) => {
          const r = resolve(doc, p);
          return (
            <tr key={name}>
              <th scope="row" className="py-2 pr-3 text-left align-top font-mono text-xs font-medium">
                {name}
                {required.has(name) ? <span className="ml-1 text-destructive">required</span> : null}
              </th>
              <td className="py-2 align-top">
                <span className="font-mono text-xs text-muted-foreground">{typeName(doc, p)}</span>
                {(p.description ?? r?.description) ? <p className="text-xs">{p.description ?? r?.description}</p> : null}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function Playground({ op, doc }: { op: Operation; doc: OpenApiDocument }) {
  const [values, setValues] = React.useState<Record<string, string>>({});
  const initialBody = op.bodyType === "json" ? JSON.stringify(exampleOf(doc, op.bodySchema ?? undefined), null, 2) : "";
  const [body, setBody] = React.useState(initialBody);
  const [result, setResult] = React.useState<{ status: number; text: string } | { error: string } | null>(null);
  const [pending, setPending] = React.useState(false);
  const pathParams = op.parameters.filter((p) => p.in === "path");
  const queryParams = op.parameters.filter((p) => p.in === "query");
  const origin = typeof window === "undefined" ? "" : window.location.origin;
  const query = Object.fromEntries(queryParams.map((p) => [p.name, values[p.name] ?? ""]));
  let parsedBody: unknown;
  let bodyError: string | undefined;
  if (op.bodyType === "json" && body.trim()) {
    try {
      parsedBody = JSON.parse(body);
    } catch {
      bodyError = "The body is not valid JSON";
    }
  }
  const sample = { origin, method: op.method, path: fillPath(op.path, values), query, body: op.bodyType ? parsedBody ?? exampleOf(doc, op.bodySchema ?? undefined) : undefined, multipart: op.bodyType === "multipart" };

  const run = async (e: React.FormEvent) => {
    e.preventDefault();
    if (bodyError) return;
    setPending(true);
    setResult(null);
    try {
      const response = await api.raw(sample.path, {
        method: op.method as "GET",
        mode: "test",
        query,
        ...(op.bodyType === "json" ? { json: parsedBody ?? {} } : {}),
      });
      const text = await response.text();
      let pretty = text;
      try {
        pretty = JSON.stringify(JSON.parse(text), null, 2);
      } catch {
        /* not JSON: show as is */
      }
      setResult({ status: response.status, text: pretty });
    } catch (err) {
      setResult({ error: err instanceof ApiError ? errorMessage(err) : String(err) });
    } finally {
      setPending(false);
    }
  };

  return (
    <div className="grid grid-cols-[minmax(0,1fr)] gap-4">
      <Tabs defaultValue="curl" className="min-w-0">
        <TabsList aria-label="Code sample language">
          <TabsTrigger value="curl">curl</TabsTrigger>
          <TabsTrigger value="js">JavaScript</TabsTrigger>
          <TabsTrigger value="python">Python</TabsTrigger>
        </TabsList>
        {(
          [
            ["curl", curlSample(sample)],
            ["js", javascriptSample(sample)],
            ["python", pythonSample(sample)],
          ] as const
        ).map(([k, code]) => (
          <TabsContent key={k} value={k} className="relative">
            <pre className="overflow-x-auto rounded-md bg-muted p-3 pr-24 font-mono text-xs">{code}</pre>
            <CopyButton text={code} className="absolute right-2 top-2" aria-label={`Copy the ${k} sample`} />
          </TabsContent>
        ))}
      </Tabs>
      <form onSubmit={run} noValidate className="grid gap-3 rounded-md border p-4">
        <div>
          <p className="text-sm font-medium">Try it</p>
          <p className="text-xs text-muted-foreground">Calls the real API with your test session (the sandbox), signed in as you.</p>
        </div>
        {[...pathParams, ...queryParams].map((p) => (
          <Field key={p.name} id={`param-${p.name}`} label={`${p.name}${p.in === "path" || p.required ? " (required)" : ""}`} hint={p.description}>
            <Input id={`param-${p.name}`} value={values[p.name] ?? ""} onChange={(e) => setValues({ ...values, [p.name]: e.target.value })} />
          </Field>
        ))}
        {op.bodyType === "json" ? (
          <Field id="param-body" label="Body (JSON)" error={bodyError}>
            <Textarea id="param-body" aria-invalid={bodyError ? true : undefined} className="font-mono text-xs" rows={6} value={body} onChange={(e) => setBody(e.target.value)} />
          </Field>
        ) : null}
        {op.bodyType === "multipart" ? <p className="text-sm text-muted-foreground">File uploads are tried on the Send page.</p> : null}
        <div>
          <Button type="submit" disabled={pending || op.bodyType === "multipart"}>
            {pending ? "Sending…" : "Send request"}
          </Button>
        </div>
        {result ? (
          "error" in result ? (
            <p role="alert" className="text-sm text-destructive">
              {result.error}
            </p>
          ) : (
            <div className="grid gap-1" aria-live="polite">
              <p className="text-sm">
                Response: <Badge variant={result.status < 400 ? "default" : "destructive"}>HTTP {result.status}</Badge>
              </p>
              <pre className="max-h-80 overflow-auto rounded-md bg-muted p-3 font-mono text-xs">{result.text}</pre>
            </div>
          )
        ) : null}
      </form>
    </div>
  );
}

export default function DocsPage() {
  const doc = useQuery({
    queryKey: ["openapi"],
    queryFn: async () => {
      const r = await fetch("/api/openapi.json", { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!r.ok) throw new ApiError(r.status, { code: r.status >= 500 ? "INTERNAL_ERROR" : "NOT_FOUND", message: `HTTP ${r.status}` });
      return (await r.json()) as OpenApiDocument;
    },
    staleTime: Infinity,
  });
  const [filter, setFilter] = React.useState("");
  const [selected, setSelected] = React.useState<string | null>(null);
  const ops = React.useMemo(() => (doc.data ? operations(doc.data) : []), [doc.data]);
  const shown = ops.filter((o) => !filter || `${o.method} ${o.path} ${o.summary}`.toLowerCase().includes(filter.toLowerCase()));
  const groups = shown.reduce<Record<string, Operation[]>>((acc, o) => ((acc[o.tag] ??= []).push(o), acc), {});
  const op = ops.find((o) => o.id === selected) ?? shown[0];

  return (
    <>
      <PageHeader
        title="API reference"
        description={
          <>
            Every customer operation, from the server&apos;s own OpenAPI document. Authenticate with an API key in <code>X-API-Key</code>; base URL{" "}
            <code>{typeof window === "undefined" ? "" : window.location.origin}</code>.
          </>
        }
      />
      {doc.isPending ? <Loading rows={6} /> : null}
      {doc.error ? <ErrorState error={doc.error} onRetry={() => doc.refetch()} title="The API reference could not be loaded" /> : null}
      {doc.data && ops.length === 0 ? <Empty title="The document lists no customer operations" /> : null}
      {op && doc.data ? (
        <div className="grid grid-cols-[minmax(0,1fr)] gap-4 lg:grid-cols-[18rem_minmax(0,1fr)]">
          <Card className="h-fit lg:sticky lg:top-20">
            <div className="border-b p-3">
              <label htmlFor="op-filter" className="sr-only">
                Filter operations
              </label>
              <Input id="op-filter" type="search" placeholder="Filter operations" value={filter} onChange={(e) => setFilter(e.target.value)} />
            </div>
            <nav aria-label="Operations" className="max-h-[40vh] overflow-y-auto p-2 lg:max-h-[70vh]">
              {Object.entries(groups).map(([tag, list]) => (
                <div key={tag} className="mb-2">
                  <p className="px-2 py-1 text-xs font-semibold uppercase text-muted-foreground">{tag}</p>
                  <ul>
                    {list.map((o) => (
                      <li key={o.id}>
                        <button
                          type="button"
                          onClick={() => setSelected(o.id)}
                          aria-current={o.id === op.id ? "true" : undefined}
                          className={cn(
                            "flex w-full items-center gap-2 rounded px-2 py-1 text-left text-xs hover:bg-accent focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring",
                            o.id === op.id && "bg-accent",
                          )}
                        >
                          <Method m={o.method} />
                          <span className="truncate font-mono">{o.path.replace("/api/v1", "")}</span>
                        </button>
                      </li>
                    ))}
                  </ul>
                </div>
              ))}
            </nav>
          </Card>
          <Card key={op.id} className="min-w-0">
            <CardHeader>
              <div className="flex flex-wrap items-center gap-2">
                <Method m={op.method} />
                <code className="break-all text-sm">{op.path}</code>
              </div>
              <CardTitle className="mt-2">{op.summary || op.id}</CardTitle>
              {op.description ? <CardDescription className="whitespace-pre-line">{op.description}</CardDescription> : null}
            </CardHeader>
            <CardContent className="grid grid-cols-[minmax(0,1fr)] gap-6">
              {op.parameters.length ? (
                <section>
                  <h3 className="mb-2 text-sm font-semibold">Parameters</h3>
                  <ul className="grid gap-1 text-sm">
                    {op.parameters.map((p) => (
                      <li key={`${p.in}-${p.name}`}>
                        <code className="text-xs">{p.name}</code> <span className="text-xs text-muted-foreground">({p.in}{p.required ? ", required" : ""})</span>
                        {p.description ? <span className="text-xs"> — {p.description}</span> : null}
                      </li>
                    ))}
                  </ul>
                </section>
              ) : null}
              {op.bodyType ? (
                <section>
                  <h3 className="mb-2 text-sm font-semibold">Body ({op.bodyType === "json" ? "JSON" : "multipart form"})</h3>
                  <SchemaFields doc={doc.data} schema={op.bodySchema} />
                </section>
              ) : null}
              <section>
                <h3 className="mb-2 text-sm font-semibold">Responses</h3>
                <ul className="grid gap-1 text-sm">
                  {op.responses.map((r) => (
                    <li key={r.status}>
                      <Badge variant={r.status.startsWith("2") ? "default" : "secondary"}>{r.status}</Badge> <span className="text-xs">{r.description}</span>
                    </li>
                  ))}
                </ul>
              </section>
              <section>
                <h3 className="mb-2 text-sm font-semibold">Examples and playground</h3>
                <Playground op={op} doc={doc.data} />
              </section>
            </CardContent>
          </Card>
        </div>
      ) : null}
    </>
  );
}
