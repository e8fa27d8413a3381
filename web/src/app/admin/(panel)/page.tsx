"use client";
import * as React from "react";
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { PageHeader } from "@/components/app-shell";
import { StateBadge, label } from "@/components/admin/badges";
import { DailyChart, RangeSwitch, TimeChart } from "@/components/admin/charts";
import { AdminErrorState } from "@/components/admin/states";
import { StatCard } from "@/components/stat-card";
import { Loading } from "@/components/states";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { parseRange, type MetricRange } from "@/lib/admin/periods";
import { useAdminList, useAdminQuery } from "@/lib/admin/queries";
import { PLANS, WHATSAPP_STATES } from "@/lib/admin/schemas";
import type { AuditLog, GlobalMetrics, Server } from "@/lib/admin/types";
import { formatDateTime, formatNumber } from "@/lib/format";
import { planName } from "@/lib/plans";

/** A count in a card ("…" until it is known). */
function Stat(props: { label: string; value: number | undefined; href?: string; testId?: string; hint?: string }) {
  return <StatCard {...props} value={props.value === undefined ? "…" : formatNumber(props.value)} />;
}

/** `{state: n}` as badges with their counts, largest first. */
function Counts({ counts, what, testId, empty }: { counts: Record<string, number>; what: string; testId?: string; empty: string }) {
  const rows = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1]);
  return (
    <ul className="grid gap-2" data-testid={testId}>
      {rows.map(([k, n]) => (
        <li key={k} className="flex items-center justify-between text-sm">
          <StateBadge value={k} what={what} />
          <span className="tabular-nums">{formatNumber(n)}</span>
        </li>
      ))}
      {rows.length === 0 ? <li className="text-sm text-muted-foreground">{empty}</li> : null}
    </ul>
  );
}

const FLEET_CHARTS: Omit<React.ComponentProps<typeof TimeChart<GlobalMetrics["points"][number]>>, "points" | "range" | "from" | "to">[] = [
  {
    title: "Messages per minute",
    description: "Sent and received, every server together.",
    series: [{ key: "messages_per_minute", name: "Messages" }],
    unit: "/min",
    yLabel: "Messages / min",
    testId: "chart-messages",
  },
  {
    title: "Errors per minute",
    description: "Failed sends and worker errors, every server together.",
    series: [{ key: "errors_per_minute", name: "Errors" }],
    unit: "/min",
    yLabel: "Errors / min",
    testId: "chart-errors",
  },
  {
    title: "Active sessions",
    description: "WhatsApp sessions on the workers, and those connected.",
    series: [
      { key: "sessions", name: "Sessions" },
      { key: "connections", name: "Connected" },
    ],
    unit: "",
    decimals: 0,
    yLabel: "Sessions",
    testId: "chart-sessions",
  },
];

function Overview() {
  const router = useRouter();
  const pathname = usePathname();
  const params = useSearchParams();
  const range = parseRange(params.get("range"));
  const setRange = (r: MetricRange) => router.replace(r === "24h" ? pathname : `${pathname}?range=${r}`);
  const metrics = useAdminQuery<GlobalMetrics>(["metrics", "global"], "/api/admin/metrics/global", { query: { range }, refetchInterval: 15_000, placeholderData: (prev) => prev });
  const servers = useAdminList<Server>(["servers", "all"], "/api/admin/servers", { query: { per_page: 100 }, refetchInterval: 15_000 });
  const activity = useAdminList<AuditLog>(["logs", "recent"], "/api/admin/logs", { query: { event_type: "admin_action", per_page: 8 }, refetchInterval: 30_000 });
  const m = metrics.data;
  const list = servers.data?.data ?? [];
  const capacity = list.reduce((n, s) => n + s.max_capacity, 0);
  const load = list.reduce((n, s) => n + s.current_load, 0);

  return (
    <>
      <PageHeader title="Overview" description="Your fleet and customers at a glance." actions={<RangeSwitch value={range} onChange={setRange} />} />
      {metrics.isPending ? <Loading rows={3} label="Loading the metrics…" /> : null}
      {metrics.error ? <AdminErrorState error={metrics.error} onRetry={() => metrics.refetch()} title="The metrics could not be loaded" /> : null}
      {m ? (
        <>
          <section aria-labelledby="today-heading" className="mb-6">
            <h2 id="today-heading" className="mb-3 text-lg font-semibold">
              Today <span className="text-sm font-normal text-muted-foreground">(UTC, {m.today.date})</span>
            </h2>
            <dl className="grid grid-cols-2 gap-3 sm:grid-cols-4">
              <Stat label="Messages sent" value={m.today.messages_sent} testId="today-messages-sent" />
              <Stat label="Messages received" value={m.today.messages_received} testId="today-messages-received" />
              <Stat label="API calls" value={m.today.api_requests} testId="today-api-requests" />
              <Stat label="Open alerts" value={m.open_alerts} testId="open-alerts" hint={m.open_alerts ? "Unresolved server alerts" : "Nothing to look at"} />
            </dl>
          </section>
          <section aria-labelledby="customers-heading" className="mb-6">
            <h2 id="customers-heading" className="mb-3 text-lg font-semibold">
              Customers
            </h2>
            <dl className="grid grid-cols-2 gap-3 sm:grid-cols-3">
              <Stat label="All customers" value={m.customers.total} href="/admin/customers" testId="count-customers" />
              <Stat label="Active" value={m.customers.active} href="/admin/customers?status=active" testId="count-active" />
              <Stat label="Suspended" value={m.customers.suspended} href="/admin/customers?status=suspended" testId="count-suspended" />
            </dl>
            <div className="mt-4 grid grid-cols-[minmax(0,1fr)] gap-3 lg:grid-cols-[minmax(0,2fr)_minmax(0,1fr)]">
              <div>
                <h3 className="mb-2 text-sm font-medium text-muted-foreground">By plan</h3>
                <dl className="grid grid-cols-2 gap-3 sm:grid-cols-4">
                  {PLANS.map((p) => (
                    <Stat key={p} label={planName(p)} value={m.customers.by_plan[p] ?? 0} href={`/admin/customers?plan=${p}`} testId={`count-plan-${p}`} />
                  ))}
                </dl>
              </div>
              <div>
                <h3 className="mb-2 text-sm font-medium text-muted-foreground">By WhatsApp state</h3>
                <Card className="p-4">
                  <ul className="grid gap-1.5 text-sm" data-testid="customers-by-whatsapp">
                    {WHATSAPP_STATES.map((s) => (
                      <li key={s} className="flex items-center justify-between">
                        <Link href={`/admin/customers?whatsapp_status=${s}`} className="rounded hover:underline focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring">
                          {label(s)}
                        </Link>
                        <span className="tabular-nums">{formatNumber(m.customers.by_whatsapp_status[s] ?? 0)}</span>
                      </li>
                    ))}
                  </ul>
                </Card>
              </div>
            </div>
          </section>
          <section aria-labelledby="servers-heading" className="mb-6">
            <h2 id="servers-heading" className="mb-3 text-lg font-semibold">
              Servers
            </h2>
            <div className="grid grid-cols-[minmax(0,1fr)] gap-3 md:grid-cols-3">
              <Card>
                <CardHeader>
                  <CardTitle>Health</CardTitle>
                  <CardDescription>From each server&apos;s latest metrics.</CardDescription>
                </CardHeader>
                <CardContent>
                  <Counts counts={m.servers.by_health} what="Health" testId="servers-by-health" empty="No servers yet." />
                </CardContent>
              </Card>
              <Card>
                <CardHeader>
                  <CardTitle>Status</CardTitle>
                  <CardDescription>{formatNumber(m.servers.total)} in the fleet.</CardDescription>
                </CardHeader>
                <CardContent>
                  <Counts counts={m.servers.by_status} what="Status" testId="servers-by-status" empty="No servers yet." />
                </CardContent>
              </Card>
              <Card>
                <CardHeader>
                  <CardTitle>Capacity</CardTitle>
                  <CardDescription>Customers placed, of what the servers may hold.</CardDescription>
                </CardHeader>
                <CardContent>
                  {servers.error ? <AdminErrorState error={servers.error} onRetry={() => servers.refetch()} /> : null}
                  <p className="text-2xl font-semibold tabular-nums">
                    {formatNumber(load)} <span className="text-base font-normal text-muted-foreground">of {formatNumber(capacity)}</span>
                  </p>
                  <div className="mt-2 h-2 overflow-hidden rounded bg-muted" role="img" aria-label={`${capacity ? Math.round((load / capacity) * 100) : 0} % used`}>
                    <div className="h-full bg-primary" style={{ width: `${capacity ? Math.min(100, (load / capacity) * 100) : 0}%` }} />
                  </div>
                </CardContent>
              </Card>
            </div>
          </section>
          <section aria-labelledby="activity-charts-heading" className="mb-6" aria-busy={metrics.isPlaceholderData}>
            <h2 id="activity-charts-heading" className="mb-3 text-lg font-semibold">
              Activity
            </h2>
            <div className={metrics.isPlaceholderData ? "grid grid-cols-[minmax(0,1fr)] gap-4 opacity-60 lg:grid-cols-2" : "grid grid-cols-[minmax(0,1fr)] gap-4 lg:grid-cols-2"}>
              {FLEET_CHARTS.map((c) => (
                <TimeChart key={c.testId} {...c} points={m.points} range={range} from={m.from} to={m.to} />
              ))}
              <DailyChart
                title="API calls and messages per day"
                description="From the customers' usage counts, per UTC day."
                days={m.daily}
                series={[
                  { key: "api_requests", name: "API calls" },
                  { key: "messages_sent", name: "Sent" },
                  { key: "messages_received", name: "Received" },
                ]}
                yLabel="Count"
                unit=""
                testId="chart-daily"
              />
            </div>
          </section>
        </>
      ) : null}
      <section aria-labelledby="activity-heading">
        <h2 id="activity-heading" className="mb-3 text-lg font-semibold">
          Recent operator actions
        </h2>
        {activity.error ? <AdminErrorState error={activity.error} onRetry={() => activity.refetch()} /> : null}
        {activity.data ? (
          <Card>
            <ul className="divide-y text-sm">
              {activity.data.data.map((l) => (
                <li key={l.id} className="flex flex-wrap items-center justify-between gap-2 px-4 py-2">
                  <span>
                    <span className="font-medium">{label(l.action)}</span>
                    {l.resource_type ? <span className="text-muted-foreground"> · {l.resource_type}</span> : null}
                  </span>
                  <span className="text-xs text-muted-foreground">{formatDateTime(l.timestamp)}</span>
                </li>
              ))}
              {activity.data.data.length === 0 ? <li className="px-4 py-3 text-muted-foreground">No operator actions yet.</li> : null}
            </ul>
            <div className="border-t px-4 py-2 text-right">
              <Link href="/admin/logs?event_type=admin_action" className="text-sm text-primary hover:underline">
                All logs
              </Link>
            </div>
          </Card>
        ) : null}
      </section>
    </>
  );
}

export default function AdminOverviewPage() {
  return (
    <React.Suspense>
      <Overview />
    </React.Suspense>
  );
}
