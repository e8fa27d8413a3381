"use client";
import * as React from "react";
import Link from "next/link";
import { useQueries } from "@tanstack/react-query";
import { PageHeader } from "@/components/app-shell";
import { StateBadge, label } from "@/components/admin/badges";
import { AdminErrorState } from "@/components/admin/states";
import { Loading } from "@/components/states";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { adminApi } from "@/lib/admin/api";
import { useAdminList } from "@/lib/admin/queries";
import { CUSTOMER_STATUSES, PLANS } from "@/lib/admin/schemas";
import type { AuditLog, Customer, Server } from "@/lib/admin/types";
import { formatDateTime, formatNumber } from "@/lib/format";
import { planName } from "@/lib/plans";

/** Customers matching a filter, counted by the list's meta.total (one row fetched). */
function useCustomerCounts() {
  const filters: { key: string; query: Record<string, string> }[] = [
    { key: "all", query: {} },
    ...CUSTOMER_STATUSES.map((status) => ({ key: `status:${status}`, query: { status } })),
    ...PLANS.map((plan) => ({ key: `plan:${plan}`, query: { plan } })),
  ];
  const results = useQueries({
    queries: filters.map((f) => ({
      queryKey: ["admin", "customers", "count", f.query],
      queryFn: ({ signal }: { signal: AbortSignal }) => adminApi.list<Customer>("/api/admin/customers", { query: { ...f.query, per_page: 1 }, signal }),
      refetchInterval: 30_000,
    })),
  });
  const counts: Record<string, number | undefined> = {};
  filters.forEach((f, i) => (counts[f.key] = results[i]?.data?.meta?.total));
  return { counts, error: results.find((r) => r.error)?.error, pending: results.some((r) => r.isPending), refetch: () => results.forEach((r) => r.refetch()) };
}

function Stat({ label, value, href, testId }: { label: string; value: number | undefined; href?: string; testId?: string }) {
  const body = (
    <>
      <dt className="text-xs text-muted-foreground">{label}</dt>
      <dd className="text-2xl font-semibold tabular-nums" data-testid={testId}>
        {value === undefined ? "…" : formatNumber(value)}
      </dd>
    </>
  );
  return (
    <Card className="p-4">
      {href ? (
        <Link href={href} className="block rounded focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring">
          {body}
        </Link>
      ) : (
        body
      )}
    </Card>
  );
}

function countBy<T>(rows: T[], key: (r: T) => string): [string, number][] {
  const m = new Map<string, number>();
  rows.forEach((r) => m.set(key(r), (m.get(key(r)) ?? 0) + 1));
  return [...m.entries()].sort((a, b) => b[1] - a[1]);
}

export default function AdminOverviewPage() {
  const customers = useCustomerCounts();
  const servers = useAdminList<Server>(["servers", "all"], "/api/admin/servers", { query: { per_page: 100 }, refetchInterval: 15_000 });
  const activity = useAdminList<AuditLog>(["logs", "recent"], "/api/admin/logs", { query: { event_type: "admin_action", per_page: 8 }, refetchInterval: 30_000 });
  const list = servers.data?.data ?? [];
  const capacity = list.reduce((n, s) => n + s.max_capacity, 0);
  const load = list.reduce((n, s) => n + s.current_load, 0);
  const c = customers.counts;

  return (
    <>
      <PageHeader title="Overview" description="Your fleet and customers at a glance." />
      <section aria-labelledby="customers-heading" className="mb-6">
        <h2 id="customers-heading" className="mb-3 text-lg font-semibold">
          Customers
        </h2>
        {customers.error ? <AdminErrorState error={customers.error} onRetry={customers.refetch} /> : null}
        <dl className="grid grid-cols-2 gap-3 sm:grid-cols-3">
          <Stat label="All customers" value={c.all} href="/admin/customers" testId="count-customers" />
          <Stat label="Active" value={c["status:active"]} href="/admin/customers?status=active" testId="count-active" />
          <Stat label="Suspended" value={c["status:suspended"]} href="/admin/customers?status=suspended" testId="count-suspended" />
        </dl>
        <h3 className="mb-2 mt-4 text-sm font-medium text-muted-foreground">By plan</h3>
        <dl className="grid grid-cols-2 gap-3 sm:grid-cols-4">
          {PLANS.map((p) => (
            <Stat key={p} label={planName(p)} value={c[`plan:${p}`]} href={`/admin/customers?plan=${p}`} testId={`count-plan-${p}`} />
          ))}
        </dl>
      </section>
      <section aria-labelledby="servers-heading" className="mb-6">
        <h2 id="servers-heading" className="mb-3 text-lg font-semibold">
          Servers
        </h2>
        {servers.isPending ? <Loading rows={2} /> : null}
        {servers.error ? <AdminErrorState error={servers.error} onRetry={() => servers.refetch()} /> : null}
        {servers.data ? (
          <div className="grid grid-cols-[minmax(0,1fr)] gap-3 md:grid-cols-3">
            <Card>
              <CardHeader>
                <CardTitle>Health</CardTitle>
                <CardDescription>From each server&apos;s latest metrics.</CardDescription>
              </CardHeader>
              <CardContent>
                <ul className="grid gap-2" data-testid="servers-by-health">
                  {countBy(list, (s) => s.health_status).map(([h, n]) => (
                    <li key={h} className="flex items-center justify-between text-sm">
                      <StateBadge value={h} what="Health" />
                      <span className="tabular-nums">{formatNumber(n)}</span>
                    </li>
                  ))}
                  {list.length === 0 ? <li className="text-sm text-muted-foreground">No servers yet.</li> : null}
                </ul>
              </CardContent>
            </Card>
            <Card>
              <CardHeader>
                <CardTitle>Connectivity</CardTitle>
                <CardDescription>From the last heartbeat.</CardDescription>
              </CardHeader>
              <CardContent>
                <ul className="grid gap-2">
                  {countBy(list, (s) => s.connectivity_status).map(([h, n]) => (
                    <li key={h} className="flex items-center justify-between text-sm">
                      <StateBadge value={h} what="Connectivity" />
                      <span className="tabular-nums">{formatNumber(n)}</span>
                    </li>
                  ))}
                </ul>
              </CardContent>
            </Card>
            <Card>
              <CardHeader>
                <CardTitle>Capacity</CardTitle>
                <CardDescription>Customers placed, of what the servers may hold.</CardDescription>
              </CardHeader>
              <CardContent>
                <p className="text-2xl font-semibold tabular-nums">
                  {formatNumber(load)} <span className="text-base font-normal text-muted-foreground">of {formatNumber(capacity)}</span>
                </p>
                <div className="mt-2 h-2 overflow-hidden rounded bg-muted" role="img" aria-label={`${capacity ? Math.round((load / capacity) * 100) : 0} % used`}>
                  <div className="h-full bg-primary" style={{ width: `${capacity ? Math.min(100, (load / capacity) * 100) : 0}%` }} />
                </div>
                <p className="mt-2 text-xs text-muted-foreground">
                  {formatNumber(list.length)} server{list.length === 1 ? "" : "s"}: {countBy(list, (s) => s.status).map(([s, n]) => `${n} ${label(s).toLowerCase()}`).join(", ") || "none"}
                </p>
              </CardContent>
            </Card>
          </div>
        ) : null}
      </section>
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
