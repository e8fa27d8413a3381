"use client";
import * as React from "react";
import Link from "next/link";
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { Download } from "lucide-react";
import { PageHeader } from "@/components/app-shell";
import { StateBadge } from "@/components/admin/badges";
import { AXIS, COLORS, ChartCard, MARGIN, TOOLTIP } from "@/components/admin/charts";
import { AdminErrorState, Pagination } from "@/components/admin/states";
import { Field, fieldProps } from "@/components/field";
import { FilterSelect } from "@/components/filter-select";
import { StatCard } from "@/components/stat-card";
import { Empty, Loading } from "@/components/states";
import { buttonVariants, Button } from "@/components/ui/button";
import { Input, Select } from "@/components/ui/input";
import { TableCard, Td } from "@/components/ui/table";
import {
  billingCsvName,
  billingCsvUrl,
  billingPeriod,
  formatMoney,
  formatPercent,
  formatPeriod,
  periodError,
  thisMonth,
  type PeriodKind,
} from "@/lib/admin/periods";
import { useAdminList, useAdminQuery } from "@/lib/admin/queries";
import { PLANS, pageParams } from "@/lib/admin/schemas";
import type { BillingCustomer, BillingSummary } from "@/lib/admin/types";
import { formatBytes, formatNumber } from "@/lib/format";
import { planName } from "@/lib/plans";
import { useAddressFilters } from "@/lib/use-address";
import { cn } from "@/lib/utils";

const SORTS = [
  ["revenue", "Revenue"],
  ["messages", "Messages"],
  ["api_requests", "API requests"],
  ["estimated_cost", "Estimated cost"],
] as const;
const PER_PAGE = 20;

/** This month, last month, or from–to (applied when valid). */
function PeriodPicker({ kind, from, to, onChange }: { kind: PeriodKind; from: string; to: string; onChange: (p: { period?: string; from?: string; to?: string }) => void }) {
  const [choice, setChoice] = React.useState<PeriodKind>(kind);
  const [f, setF] = React.useState(from);
  const [t, setT] = React.useState(to);
  const [error, setError] = React.useState<ReturnType<typeof periodError>>(null);
  React.useEffect(() => {
    setChoice(kind);
    setF(from);
    setT(to);
  }, [kind, from, to]);
  return (
    <form
      className="flex flex-wrap items-end gap-3"
      aria-label="Billing period"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        const err = periodError(f, t);
        setError(err);
        if (!err) onChange({ period: "custom", from: f, to: t });
      }}
    >
      <div className="grid gap-1.5">
        <label htmlFor="billing-period" className="text-sm font-medium">
          Period
        </label>
        <Select
          id="billing-period"
          className="w-40"
          value={choice}
          onChange={(e) => {
            const v = e.target.value as PeriodKind;
            setChoice(v);
            setError(null);
            if (v !== "custom") onChange({ period: v === "this_month" ? undefined : v });
          }}
        >
          <option value="this_month">This month</option>
          <option value="last_month">Last month</option>
          <option value="custom">Custom…</option>
        </Select>
      </div>
      {choice === "custom" ? (
        <>
          <Field id="billing-from" label="From" error={error?.field === "from" ? error.message : undefined}>
            <Input {...fieldProps("billing-from", error?.field === "from" ? error.message : undefined)} type="date" className="w-40" value={f} max={t || undefined} onChange={(e) => setF(e.target.value)} />
          </Field>
          <Field id="billing-to" label="To" error={error?.field === "to" ? error.message : undefined}>
            <Input {...fieldProps("billing-to", error?.field === "to" ? error.message : undefined)} type="date" className="w-40" value={t} min={f || undefined} onChange={(e) => setT(e.target.value)} />
          </Field>
          <Button type="submit" variant="outline">
            Show period
          </Button>
        </>
      ) : null}
    </form>
  );
}

type PlanPoint = { plan: string; customers: number; revenue: number };

/** One figure per plan as bars: the plan distribution. */
function PlanChart({ title, description, data, dataKey, format, yLabel, testId }: { title: string; description: string; data: PlanPoint[]; dataKey: "customers" | "revenue"; format: (v: number) => string; yLabel: string; testId: string }) {
  return (
    <ChartCard title={title} description={description} testId={testId}>
      {data.every((c) => c[dataKey] === 0) ? (
        <Empty title="Nothing in this period" />
      ) : (
        <div className="h-48 w-full overflow-hidden" role="img" aria-label={`${title}: ${data.map((c) => `${c.plan} ${format(c[dataKey])}`).join(", ")}`}>
          <ResponsiveContainer width="100%" height="100%">
            <BarChart data={data} margin={MARGIN}>
              <CartesianGrid strokeDasharray="3 3" stroke="var(--color-border)" />
              <XAxis dataKey="plan" tick={AXIS} interval={0} label={{ value: "Plan", position: "insideBottom", offset: -16, ...AXIS }} />
              <YAxis allowDecimals={dataKey === "revenue"} tick={AXIS} width={48} label={{ value: yLabel, angle: -90, position: "insideLeft", offset: -4, ...AXIS, style: { textAnchor: "middle" } }} />
              <Tooltip formatter={(v) => [format(Number(v))]} contentStyle={TOOLTIP} cursor={{ fill: "var(--color-muted)" }} />
              <Bar isAnimationActive={false} dataKey={dataKey} name={title} fill={dataKey === "revenue" ? COLORS[1] : COLORS[0]} />
            </BarChart>
          </ResponsiveContainer>
        </div>
      )}
    </ChartCard>
  );
}

function Summary({ summary }: { summary: BillingSummary }) {
  const t = summary.totals;
  const plans = [...summary.plans].sort((a, b) => PLANS.indexOf(a.plan as (typeof PLANS)[number]) - PLANS.indexOf(b.plan as (typeof PLANS)[number]));
  const chart = plans.map((p) => ({ plan: planName(p.plan), customers: p.customers, revenue: p.revenue }));
  return (
    <>
      <dl className="mb-6 grid grid-cols-2 gap-3 md:grid-cols-3 xl:grid-cols-6">
        <StatCard label="MRR" value={formatMoney(t.mrr)} hint="Monthly, the active customers' plans" testId="total-mrr" />
        <StatCard label="Revenue" value={formatMoney(t.revenue)} hint={`For the ${formatNumber(summary.days)} day${summary.days === 1 ? "" : "s"}`} testId="total-revenue" />
        <StatCard label="Server cost" value={formatMoney(t.server_cost)} hint="The servers' monthly cost, pro rata" testId="total-server-cost" />
        <StatCard label="Margin" value={formatMoney(t.margin)} hint={t.margin_pct === null ? "No revenue yet" : `${formatPercent(t.margin_pct)} of revenue`} testId="total-margin" />
        <StatCard label="Cost per customer" value={formatMoney(t.cost_per_customer)} hint={`${formatNumber(t.customers)} customer${t.customers === 1 ? "" : "s"}`} testId="total-cost-per-customer" />
        <StatCard label="Estimated usage cost" value={formatMoney(t.estimated_cost, 4)} hint="From messages, media and traffic" testId="total-estimated-cost" />
      </dl>
      <section aria-labelledby="plans-heading" className="mb-6">
        <h2 id="plans-heading" className="mb-3 text-lg font-semibold">
          Revenue by plan
        </h2>
        <div className="grid grid-cols-[minmax(0,1fr)] gap-4">
          <TableCard
            caption="Revenue by plan"
            testId="billing-plans"
            columns={["Plan", { label: "Price / month", numeric: true }, { label: "Customers", numeric: true }, { label: "Revenue", numeric: true }, { label: "API requests", numeric: true }, { label: "Messages", numeric: true }, { label: "Est. cost", numeric: true }]}
          >
            {plans.map((p) => (
              <tr key={p.plan} data-plan={p.plan}>
                <Td className="font-medium">{planName(p.plan)}</Td>
                <Td numeric>{formatMoney(p.price_per_month)}</Td>
                <Td numeric>
                  {formatNumber(p.customers)}
                  {p.suspended ? <span className="block text-xs text-muted-foreground">{formatNumber(p.suspended)} suspended</span> : null}
                </Td>
                <Td numeric>{formatMoney(p.revenue)}</Td>
                <Td numeric>{formatNumber(p.api_requests)}</Td>
                <Td numeric>{formatNumber(p.messages_sent + p.messages_received)}</Td>
                <Td numeric>{formatMoney(p.estimated_cost, 4)}</Td>
              </tr>
            ))}
            {plans.length === 0 ? (
              <tr>
                <Td colSpan={7} className="text-muted-foreground">
                  No plans billed in this period.
                </Td>
              </tr>
            ) : null}
          </TableCard>
          <div className="grid grid-cols-[minmax(0,1fr)] gap-4 md:grid-cols-2">
            <PlanChart title="Customers by plan" description="How the customers billed in this period spread over the plans." data={chart} dataKey="customers" format={(v) => `${formatNumber(v)} customers`} yLabel="Customers" testId="chart-plan-customers" />
            <PlanChart title="Revenue by plan" description="What each plan earned in the period." data={chart} dataKey="revenue" format={(v) => formatMoney(v)} yLabel="US dollars" testId="chart-plan-revenue" />
          </div>
        </div>
      </section>
      <section aria-labelledby="servers-heading" className="mb-6">
        <h2 id="servers-heading" className="mb-3 text-lg font-semibold">
          Cost and margin per server
        </h2>
        {summary.servers.length === 0 ? (
          <Empty title="No servers" />
        ) : (
          <TableCard
            caption="Cost and margin per server"
            testId="billing-servers"
            columns={["Server", "Status", { label: "Cost / month", numeric: true }, { label: "Cost", numeric: true }, { label: "Customers", numeric: true }, { label: "Revenue", numeric: true }, { label: "Margin", numeric: true }]}
          >
            {summary.servers.map((s) => (
              <tr key={s.server_id}>
                <Td>
                  <Link href={`/admin/servers/view?id=${s.server_id}`} className="font-medium whitespace-nowrap text-primary hover:underline">
                    {s.name}
                  </Link>
                </Td>
                <Td>
                  <StateBadge value={s.status} what="Status" />
                </Td>
                <Td numeric>{s.cost_per_month === null ? <span className="text-muted-foreground">Not set</span> : formatMoney(s.cost_per_month)}</Td>
                <Td numeric>{formatMoney(s.cost)}</Td>
                <Td numeric>{formatNumber(s.customers)}</Td>
                <Td numeric>{formatMoney(s.revenue)}</Td>
                <Td numeric className={cn(s.margin < 0 && "text-destructive")}>{formatMoney(s.margin)}</Td>
              </tr>
            ))}
          </TableCard>
        )}
      </section>
    </>
  );
}

function CustomerUsage({ from, to }: { from: string; to: string }) {
  const { params, set } = useAddressFilters();
  const plan = (PLANS as readonly string[]).includes(params.get("plan") ?? "") ? params.get("plan")! : undefined;
  const sort = SORTS.some(([v]) => v === params.get("sort")) ? params.get("sort")! : "revenue";
  const { page } = pageParams(params.get("page"), PER_PAGE);
  const rows = useAdminList<BillingCustomer>(["billing", "customers"], "/api/admin/billing/customers", {
    query: { from, to, plan, sort, page, per_page: PER_PAGE },
    placeholderData: (prev) => prev,
  });
  const list = rows.data?.data ?? [];
  return (
    <section aria-labelledby="usage-heading">
      <div className="mb-3 flex flex-wrap items-end justify-between gap-3">
        <h2 id="usage-heading" className="text-lg font-semibold">
          Usage per customer
        </h2>
        <div className="flex flex-wrap gap-3">
          <FilterSelect id="billing-plan" label="Plan" className="w-36" value={plan ?? ""} onChange={(v) => set({ plan: v })} any="Any plan" options={PLANS.map((p) => [p, planName(p)] as const)} />
          <FilterSelect id="billing-sort" label="Sort by" className="w-40" value={sort} onChange={(v) => set({ sort: v === "revenue" ? undefined : v })} options={SORTS} />
        </div>
      </div>
      {rows.isPending ? <Loading rows={4} /> : null}
      {rows.error ? <AdminErrorState error={rows.error} onRetry={() => rows.refetch()} /> : null}
      {rows.data && list.length === 0 ? <Empty title="No customers billed">No customer matches the plan in this period.</Empty> : null}
      {list.length > 0 ? (
        <TableCard
          caption="Usage per customer"
          testId="billing-customers"
          busy={rows.isPlaceholderData}
          columns={[
            "Customer",
            "Plan",
            { label: "Revenue", numeric: true },
            { label: "API requests", numeric: true },
            { label: "Sent / received", numeric: true },
            { label: "Media", numeric: true },
            { label: "Data", numeric: true },
            { label: "Est. cost", numeric: true },
          ]}
        >
          {list.map((c) => (
            <tr key={c.customer_id} data-customer={c.email}>
              <Td className="max-w-64">
                <Link href={`/admin/customers/view?id=${c.customer_id}`} className="block truncate font-medium text-primary hover:underline">
                  {c.email}
                </Link>
                <span className="flex items-center gap-1 text-xs text-muted-foreground">
                  <span className="truncate">{[c.company_name, c.server_name ? `on ${c.server_name}` : "no server"].filter(Boolean).join(" · ")}</span>
                  {c.status !== "active" ? <StateBadge value={c.status} what="Status" /> : null}
                </span>
              </Td>
              <Td>{planName(c.plan)}</Td>
              <Td numeric>
                {formatMoney(c.revenue)}
                <span className="block text-xs text-muted-foreground">
                  {formatNumber(c.days_billed)} day{c.days_billed === 1 ? "" : "s"}
                </span>
              </Td>
              <Td numeric>{formatNumber(c.api_requests)}</Td>
              <Td numeric>
                {formatNumber(c.messages_sent)} / {formatNumber(c.messages_received)}
              </Td>
              <Td numeric>{formatNumber(c.media_sent)}</Td>
              <Td numeric>{formatBytes(c.bandwidth_in_bytes + c.bandwidth_out_bytes)}</Td>
              <Td numeric>{formatMoney(c.estimated_cost, 4)}</Td>
            </tr>
          ))}
        </TableCard>
      ) : null}
      {rows.data?.meta ? <Pagination label="customers" page={page} perPage={PER_PAGE} total={rows.data.meta.total} onPage={(p) => set({ page: p })} /> : null}
    </section>
  );
}

function Billing() {
  const { params, set } = useAddressFilters();
  const period = billingPeriod({ period: params.get("period"), from: params.get("from"), to: params.get("to") });
  const { from, to } = period;
  const summary = useAdminQuery<BillingSummary>(["billing", "summary"], "/api/admin/billing/summary", { query: { from, to }, placeholderData: (prev) => prev });
  const month = thisMonth();
  return (
    <>
      <PageHeader
        title="Billing"
        description={`Revenue, costs and usage for ${formatPeriod(from, to)} (UTC days), in US dollars.`}
        actions={
          <a href={billingCsvUrl(from, to)} download={billingCsvName(from, to)} className={buttonVariants({ variant: "outline" })}>
            <Download aria-hidden /> Download CSV
          </a>
        }
      />
      <div className="mb-6">
        <PeriodPicker
          kind={period.kind}
          from={period.kind === "custom" ? from : month.from}
          to={period.kind === "custom" ? to : month.to}
          onChange={(p) => set({ period: p.period, from: p.from, to: p.to })}
        />
      </div>
      {summary.isPending ? <Loading rows={4} label="Loading the billing summary…" /> : null}
      {summary.error ? <AdminErrorState error={summary.error} onRetry={() => summary.refetch()} title="The billing summary could not be loaded" /> : null}
      {summary.data ? (
        <div aria-busy={summary.isPlaceholderData} className={summary.isPlaceholderData ? "opacity-60 transition-opacity" : undefined}>
          <Summary summary={summary.data} />
        </div>
      ) : null}
      <CustomerUsage from={from} to={to} />
    </>
  );
}

export default function BillingPage() {
  return (
    <React.Suspense>
      <Billing />
    </React.Suspense>
  );
}
