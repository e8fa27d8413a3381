"use client";
import * as React from "react";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { Search } from "lucide-react";
import { PageHeader } from "@/components/app-shell";
import { label } from "@/components/admin/badges";
import { LogTable } from "@/components/admin/log-table";
import { AdminErrorState, Pagination } from "@/components/admin/states";
import { Field, fieldProps } from "@/components/field";
import { Empty, Loading } from "@/components/states";
import { Button } from "@/components/ui/button";
import { Card, CardContent } from "@/components/ui/card";
import { Input, Select } from "@/components/ui/input";
import { useAdminList } from "@/lib/admin/queries";
import { ACTOR_TYPES, EVENT_TYPES, LOG_FILTERS, LOG_STATUSES, SEVERITIES, logFilterSchema, logQuery, type LogFilterValues } from "@/lib/admin/schemas";
import type { AuditLog } from "@/lib/admin/types";

const PER_PAGE = 50;

function readFilters(params: URLSearchParams): LogFilterValues {
  const f: LogFilterValues = {};
  for (const name of LOG_FILTERS) {
    const v = params.get(name);
    if (v) f[name] = v;
  }
  return f;
}

function LogViewer() {
  const router = useRouter();
  const pathname = usePathname();
  const params = useSearchParams();
  const filters = readFilters(params);
  const page = Number(params.get("page") ?? 1) || 1;
  const query = logQuery(filters, page, PER_PAGE);
  const logs = useAdminList<AuditLog>(["logs", "viewer"], "/api/admin/logs", { query, placeholderData: (prev) => prev, refetchInterval: 30_000 });

  const form = useForm<LogFilterValues>({ resolver: zodResolver(logFilterSchema), values: filters });
  const e = form.formState.errors;
  const go = (f: LogFilterValues, p = 1) => {
    const next = new URLSearchParams();
    for (const name of LOG_FILTERS) {
      const v = f[name]?.trim();
      if (v) next.set(name, v);
    }
    if (p > 1) next.set("page", String(p));
    const qs = next.toString();
    router.replace(qs ? `${pathname}?${qs}` : pathname);
  };
  const submit = form.handleSubmit((v) => go(v));
  const [requestId, setRequestId] = React.useState(filters.request_id ?? "");
  React.useEffect(() => setRequestId(filters.request_id ?? ""), [filters.request_id]);
  const text = (name: keyof LogFilterValues, title: string, hint?: string) => {
    const id = `log-${name}`;
    const msg = e[name]?.message;
    return (
      <Field id={id} label={title} hint={hint} error={msg}>
        <Input {...fieldProps(id, msg, !!hint)} {...form.register(name)} />
      </Field>
    );
  };
  const select = (name: keyof LogFilterValues, title: string, options: readonly string[]) => (
    <Field id={`log-${name}`} label={title}>
      <Select id={`log-${name}`} {...form.register(name)}>
        <option value="">Any</option>
        {options.map((o) => (
          <option key={o} value={o}>
            {label(o)}
          </option>
        ))}
      </Select>
    </Field>
  );

  return (
    <>
      <PageHeader title="Logs" description="The audit log: every operator action, sign-in, security event and customer API call, newest first." />
      <form
        role="search"
        aria-label="Find a request by id"
        className="mb-4 flex flex-col gap-2 sm:flex-row sm:items-end"
        onSubmit={(ev) => {
          ev.preventDefault();
          go({ request_id: requestId.trim() });
        }}
      >
        <div className="grid flex-1 gap-1.5">
          <label htmlFor="request-id-search" className="text-sm font-medium">
            Request id
          </label>
          <Input id="request-id-search" value={requestId} onChange={(ev) => setRequestId(ev.target.value)} placeholder="The X-Request-Id of a response" className="font-mono" />
        </div>
        <Button type="submit">
          <Search aria-hidden /> Find request
        </Button>
      </form>
      <Card className="mb-4">
        <CardContent className="pt-5">
          <details open={Object.keys(filters).some((k) => k !== "request_id")}>
            <summary className="cursor-pointer text-sm font-medium">Filters</summary>
            <form onSubmit={submit} noValidate className="mt-4 grid gap-4">
              <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
                {select("event_type", "Event type", EVENT_TYPES)}
                {select("severity", "Severity", SEVERITIES)}
                {select("actor_type", "Actor type", ACTOR_TYPES)}
                {select("status", "Result", LOG_STATUSES)}
                {text("customer_id", "Customer id", "Its API calls and sign-ins, and operators' actions on it")}
                {text("actor_id", "Actor id", "An operator's or customer's id")}
                {text("action", "Action", "e.g. update_customer, login")}
                {text("resource_type", "Resource type", "e.g. customer, server, api_key")}
                {text("resource_id", "Resource id")}
                {text("request_id", "Request id")}
                <Field id="log-from" label="From" error={e.from?.message}>
                  <Input {...fieldProps("log-from", e.from?.message)} type="datetime-local" {...form.register("from")} />
                </Field>
                <Field id="log-to" label="Until" error={e.to?.message}>
                  <Input {...fieldProps("log-to", e.to?.message)} type="datetime-local" {...form.register("to")} />
                </Field>
              </div>
              <div className="flex flex-wrap gap-2">
                <Button type="submit">Apply filters</Button>
                <Button
                  variant="outline"
                  onClick={() => {
                    form.reset({});
                    setRequestId("");
                    go({});
                  }}
                >
                  Clear
                </Button>
              </div>
            </form>
          </details>
        </CardContent>
      </Card>
      {logs.isPending ? <Loading rows={5} /> : null}
      {logs.error ? <AdminErrorState error={logs.error} onRetry={() => logs.refetch()} /> : null}
      {logs.data && logs.data.data.length === 0 ? <Empty title="No log rows match">Change or clear the filters. Customer API calls are written within a few seconds.</Empty> : null}
      {logs.data && logs.data.data.length > 0 ? (
        <div aria-busy={logs.isPlaceholderData} className={logs.isPlaceholderData ? "opacity-60 transition-opacity" : undefined}>
          <LogTable rows={logs.data.data} caption="Audit log" />
        </div>
      ) : null}
      {logs.data?.meta ? <Pagination label="rows" page={query.page} perPage={PER_PAGE} total={logs.data.meta.total} onPage={(p) => go(filters, p)} /> : null}
    </>
  );
}

export default function LogsPage() {
  return (
    <React.Suspense>
      <LogViewer />
    </React.Suspense>
  );
}
