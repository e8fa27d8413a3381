"use client";
import * as React from "react";
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useQueryClient } from "@tanstack/react-query";
import { ArrowLeft, Pencil } from "lucide-react";
import { PageHeader } from "@/components/app-shell";
import { StateBadge } from "@/components/admin/badges";
import { RangeSwitch, TimeChart } from "@/components/admin/charts";
import { ConfirmAction } from "@/components/admin/confirm";
import { ServerForm } from "@/components/admin/server-form";
import { AdminErrorState, Can } from "@/components/admin/states";
import { Utilisation } from "@/components/admin/utilisation";
import { Empty, Loading } from "@/components/states";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Dialog, DialogContent, DialogDescription, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { adminApi } from "@/lib/admin/api";
import { useAdminList, useAdminQuery } from "@/lib/admin/queries";
import { formatMoney, parseRange, type MetricRange } from "@/lib/admin/periods";
import { serverValues, toUpdateServer } from "@/lib/admin/schemas";
import type { Customer, Server, ServerHealth, ServerMetricsSeries } from "@/lib/admin/types";
import { formatDateTime, formatNumber } from "@/lib/format";
import { planName } from "@/lib/plans";

function Facts({ rows }: { rows: [string, React.ReactNode][] }) {
  return (
    <dl className="grid grid-cols-[minmax(0,auto)_minmax(0,1fr)] gap-x-4 gap-y-2 text-sm">
      {rows.map(([k, v]) => (
        <React.Fragment key={k}>
          <dt className="text-muted-foreground">{k}</dt>
          <dd className="min-w-0 break-words">{v ?? "—"}</dd>
        </React.Fragment>
      ))}
    </dl>
  );
}

const pct = (v: number | null | undefined) => (v === null || v === undefined ? "—" : `${Number(v).toFixed(1)} %`);
const num = (v: number | null | undefined, unit = "") => (v === null || v === undefined ? "—" : `${formatNumber(v)}${unit}`);

function EditServer({ server, onSaved }: { server: Server; onSaved: () => void }) {
  const [open, setOpen] = React.useState(false);
  return (
    <>
      <Button variant="outline" size="sm" onClick={() => setOpen(true)}>
        <Pencil aria-hidden /> Edit
      </Button>
      <Dialog open={open} onOpenChange={setOpen}>
        <DialogContent className="max-w-2xl">
          <DialogHeader>
            <DialogTitle>Edit “{server.name}”</DialogTitle>
            <DialogDescription>Changes apply at once; the worker keeps running.</DialogDescription>
          </DialogHeader>
          <ServerForm
            defaultValues={serverValues(server)}
            withStatus
            submitLabel="Save changes"
            onCancel={() => setOpen(false)}
            onSubmit={async (values) => {
              await adminApi.put(`/api/admin/servers/${server.id}`, toUpdateServer(values));
              setOpen(false);
              onSaved();
            }}
          />
        </DialogContent>
      </Dialog>
    </>
  );
}

/** The server's metrics over a range (GET /api/admin/metrics/servers/{id}). */
function ServerCharts({ id }: { id: string }) {
  const router = useRouter();
  const pathname = usePathname();
  const params = useSearchParams();
  const range = parseRange(params.get("range"));
  const setRange = (r: MetricRange) => {
    const next = new URLSearchParams(params.toString());
    if (r === "24h") next.delete("range");
    else next.set("range", r);
    router.replace(`${pathname}?${next.toString()}`);
  };
  const metrics = useAdminQuery<ServerMetricsSeries>(["metrics", "server", id], `/api/admin/metrics/servers/${id}`, { query: { range }, refetchInterval: 15_000, placeholderData: (prev) => prev });
  const m = metrics.data;
  const common = m ? { points: m.points, range, from: m.from, to: m.to } : null;
  return (
    <section aria-labelledby="metrics-heading" className="mt-6">
      <div className="mb-3 flex flex-wrap items-end justify-between gap-2">
        <div>
          <h2 id="metrics-heading" className="text-lg font-semibold">
            Metrics
          </h2>
          <p className="text-sm text-muted-foreground">From the worker&apos;s heartbeats, averaged per time bucket{m ? ` of ${bucketLabel(m.bucket_secs)}` : ""}.</p>
        </div>
        <RangeSwitch value={range} onChange={setRange} />
      </div>
      {metrics.isPending ? <Loading rows={3} label="Loading the metrics…" /> : null}
      {metrics.error ? <AdminErrorState error={metrics.error} onRetry={() => metrics.refetch()} title="The metrics could not be loaded" /> : null}
      {common ? (
        <div className={metrics.isPlaceholderData ? "grid grid-cols-[minmax(0,1fr)] gap-4 opacity-60 lg:grid-cols-2" : "grid grid-cols-[minmax(0,1fr)] gap-4 lg:grid-cols-2"} aria-busy={metrics.isPlaceholderData}>
          <TimeChart {...common} title="CPU and RAM" description="Average use of the machine." series={[{ key: "cpu_avg", name: "CPU" }, { key: "ram_avg", name: "RAM" }]} unit="%" yLabel="Use (%)" max={100} testId="chart-cpu-ram" />
          <TimeChart {...common} title="Disk" description="Average use of its disk." series={[{ key: "disk_avg", name: "Disk" }]} unit="%" yLabel="Use (%)" max={100} testId="chart-disk" />
          <TimeChart {...common} title="Sessions" description="WhatsApp sessions on the worker, and those connected." series={[{ key: "sessions", name: "Sessions" }, { key: "connections", name: "Connected" }]} unit="" decimals={0} yLabel="Sessions" testId="chart-sessions" />
          <TimeChart {...common} title="Messages per minute" description="Messages through the worker, and errors." series={[{ key: "messages_per_minute", name: "Messages" }, { key: "errors_per_minute", name: "Errors" }]} unit="/min" yLabel="Per minute" testId="chart-messages" />
          <TimeChart {...common} title="Response time" description="The worker's API: 95th percentile and average." series={[{ key: "p95_ms", name: "p95" }, { key: "avg_response_ms", name: "Average" }]} unit="ms" decimals={0} yLabel="Milliseconds" testId="chart-response" />
        </div>
      ) : null}
    </section>
  );
}

function bucketLabel(secs: number): string {
  if (secs % 3600 === 0) return `${secs / 3600} hour${secs === 3600 ? "" : "s"}`;
  if (secs % 60 === 0) return `${secs / 60} minute${secs === 60 ? "" : "s"}`;
  return `${secs} seconds`;
}

function ServerView({ id }: { id: string }) {
  const router = useRouter();
  const qc = useQueryClient();
  /** Removed: its queries stop (they would answer 404) while the list opens. */
  const [removed, setRemoved] = React.useState(false);
  const server = useAdminQuery<Server>(["servers", id], removed ? null : `/api/admin/servers/${id}`, { refetchInterval: 15_000 });
  const health = useAdminQuery<ServerHealth>(["servers", id, "health"], removed ? null : `/api/admin/servers/${id}/health`, { refetchInterval: 15_000 });
  const customers = useAdminList<Customer>(["customers", "server", id], "/api/admin/customers", { query: { server_id: id, per_page: 20 } });
  const refresh = () => qc.invalidateQueries({ queryKey: ["admin", "servers"] });
  const setStatus = (status: string) => adminApi.put(`/api/admin/servers/${id}`, { status }).then(refresh);

  if (server.isPending) return <Loading rows={4} />;
  if (server.error) return <AdminErrorState error={server.error} onRetry={() => server.refetch()} title="This server could not be loaded" />;
  const s = server.data;
  const h = health.data;
  const m = h?.latest_metrics;
  return (
    <>
      <Link href="/admin/servers" className="mb-3 inline-flex items-center gap-1 text-sm text-muted-foreground hover:text-foreground">
        <ArrowLeft className="h-4 w-4" aria-hidden /> Servers
      </Link>
      <PageHeader
        title={s.name}
        description={
          <span className="flex flex-wrap items-center gap-2">
            <StateBadge value={s.status} what="Status" />
            <StateBadge value={s.health_status} what="Health" />
            <StateBadge value={s.connectivity_status} what="Connectivity" />
          </span>
        }
        actions={
          <Can>
            <EditServer server={s} onSaved={refresh} />
            {s.status !== "draining" ? (
              <ConfirmAction
                label="Drain"
                title={`Drain “${s.name}”?`}
                description="The server stops receiving new customers. Its customers stay on it until you reassign each one."
                confirmLabel="Drain server"
                onConfirm={() => setStatus("draining")}
              />
            ) : null}
            {s.status !== "maintenance" ? (
              <ConfirmAction
                label="Maintenance"
                title={`Put “${s.name}” in maintenance?`}
                description="The server stops receiving new customers while you work on it. Its customers stay on it and keep being served while it runs."
                confirmLabel="Start maintenance"
                onConfirm={() => setStatus("maintenance")}
              />
            ) : null}
            {s.status !== "active" ? (
              <ConfirmAction
                label="Activate"
                title={`Activate “${s.name}”?`}
                description="The server receives new customers again (when it is healthy, online and has room)."
                confirmLabel="Activate server"
                onConfirm={() => setStatus("active")}
              />
            ) : null}
            <ConfirmAction
              label="Remove"
              variant="destructive"
              destructive
              title={`Remove “${s.name}”?`}
              description="The server leaves the fleet and its key stops working; a running worker reports its key refused. Only a server without customers can be removed."
              confirmLabel="Remove server"
              typeToConfirm={s.name}
              onConfirm={async () => {
                await adminApi.del(`/api/admin/servers/${id}`);
                setRemoved(true);
                router.replace("/admin/servers");
                void qc.invalidateQueries({ queryKey: ["admin", "servers", "list"] });
                void qc.invalidateQueries({ queryKey: ["admin", "servers", "all"] });
              }}
            />
          </Can>
        }
      />
      <div className="grid grid-cols-[minmax(0,1fr)] gap-4 lg:grid-cols-2">
        <Card>
          <CardHeader>
            <CardTitle>Machine</CardTitle>
          </CardHeader>
          <CardContent>
            <Facts
              rows={[
                ["IP address", <code key="ip">{s.ip_address}</code>],
                ["Worker API", <code key="url" className="break-all">{s.api_url}</code>],
                ["Key", <code key="key">{s.api_key_hint}</code>],
                ["Customers", <Utilisation key="u" server={s} />],
                ["CPU", `${s.cpu_cores} cores`],
                ["RAM", `${s.ram_gb} GB`],
                ["Disk", s.disk_gb ? `${s.disk_gb} GB` : "—"],
                ["Region", s.region ?? "—"],
                ["Datacenter", s.datacenter ?? "—"],
                ["Provider", s.provider ?? "—"],
                ["Cost per month", formatMoney(s.cost_per_month)],
                ["Added", formatDateTime(s.created_at)],
              ]}
            />
          </CardContent>
        </Card>
        <Card>
          <CardHeader>
            <CardTitle>Health</CardTitle>
            <CardDescription>The latest heartbeat&apos;s metrics and a live probe of the worker&apos;s /health.</CardDescription>
          </CardHeader>
          <CardContent>
            {health.isPending ? <Loading rows={3} /> : null}
            {health.error ? <AdminErrorState error={health.error} onRetry={() => health.refetch()} /> : null}
            {h ? (
              <Facts
                rows={[
                  ["Last heartbeat", h.last_heartbeat ? `${formatDateTime(h.last_heartbeat)} (${formatNumber(h.seconds_since_heartbeat)} s ago)` : "Never"],
                  [
                    "Probe",
                    h.probe.reachable ? (
                      <span key="p">
                        Reachable{h.probe.status_code ? ` (HTTP ${h.probe.status_code})` : ""}
                        {h.probe.latency_ms !== null && h.probe.latency_ms !== undefined ? `, ${h.probe.latency_ms} ms` : ""}
                      </span>
                    ) : (
                      <span key="p" className="text-destructive">
                        Unreachable{h.probe.error ? `: ${h.probe.error}` : ""}
                      </span>
                    ),
                  ],
                  ["CPU", pct(m?.cpu_usage)],
                  ["RAM", pct(m?.ram_usage)],
                  ["Disk", pct(m?.disk_usage)],
                  ["Sessions", `${num(m?.active_connections)} connected of ${num(m?.total_instances)}`],
                  ["Messages", num(m?.messages_per_minute, " a minute")],
                  ["Errors", num(m?.errors_per_minute, " a minute")],
                  ["Response time", m?.avg_response_time_ms !== null && m?.avg_response_time_ms !== undefined ? `${m.avg_response_time_ms} ms average, ${num(m.p95_response_time_ms, " ms")} p95` : "—"],
                ]}
              />
            ) : null}
          </CardContent>
        </Card>
      </div>
      <ServerCharts id={id} />
      <Card className="mt-6">
        <CardHeader>
          <CardTitle>Customers on this server</CardTitle>
          <CardDescription>{customers.data?.meta ? `${formatNumber(customers.data.meta.total)} in all` : null}</CardDescription>
        </CardHeader>
        <CardContent>
          {customers.isPending ? <Loading rows={2} /> : null}
          {customers.error ? <AdminErrorState error={customers.error} onRetry={() => customers.refetch()} /> : null}
          {customers.data && customers.data.data.length === 0 ? <Empty title="No customers on this server" /> : null}
          <ul className="divide-y text-sm">
            {customers.data?.data.map((c) => (
              <li key={c.id} className="flex flex-wrap items-center justify-between gap-2 py-2">
                <Link href={`/admin/customers/view?id=${c.id}`} className="min-w-0 truncate font-medium text-primary hover:underline">
                  {c.email}
                </Link>
                <span className="flex items-center gap-2 text-xs text-muted-foreground">
                  {planName(c.plan)} <StateBadge value={c.status} what="Status" />
                </span>
              </li>
            ))}
          </ul>
          {customers.data?.meta && customers.data.meta.total > customers.data.data.length ? (
            <Link href={`/admin/customers?server_id=${id}`} className="mt-2 inline-block text-sm text-primary hover:underline">
              All customers on this server
            </Link>
          ) : null}
        </CardContent>
      </Card>
    </>
  );
}

function ServerPage() {
  const id = useSearchParams().get("id");
  if (!id) return <Empty title="No server chosen">Open a server from the list.</Empty>;
  return <ServerView id={id} />;
}

export default function ServerViewPage() {
  return (
    <React.Suspense>
      <ServerPage />
    </React.Suspense>
  );
}
