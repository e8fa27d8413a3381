"use client";
import * as React from "react";
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { PageHeader } from "@/components/app-shell";
import { ErrorState, Loading } from "@/components/states";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Select } from "@/components/ui/input";
import type { UsageReport } from "@/lib/api/types";
import { formatBytes, formatNumber } from "@/lib/format";
import { planLimits, planName } from "@/lib/plans";
import { useModeQuery } from "@/lib/queries";
import { useSession } from "@/lib/session";
import { fillDays, lastDays } from "@/lib/usage";

const AXIS = { fontSize: 12, fill: "var(--color-muted-foreground)" };
const shortDate = (d: string) => new Date(`${d}T00:00:00Z`).toLocaleDateString(undefined, { month: "short", day: "numeric", timeZone: "UTC" });

/** The plan's limit as a line when the busiest day is within a quarter of it; else a note. */
function nearLimit(max: number, limit: number | null): boolean {
  return !!limit && max >= limit / 4;
}

function LimitNote({ max, limit, what }: { max: number; limit: number | null; what: string }) {
  if (!limit) return <p className="mt-2 text-xs text-muted-foreground">Your plan has no daily limit of {what}.</p>;
  if (nearLimit(max, limit)) return <p className="mt-2 text-xs text-muted-foreground">Dashed line: your plan&apos;s limit of {formatNumber(limit)} {what} a day.</p>;
  return (
    <p className="mt-2 text-xs text-muted-foreground">
      Busiest day: {formatNumber(max)} {what}, {((max / limit) * 100).toFixed(1)} % of your plan&apos;s limit of {formatNumber(limit)} a day.
    </p>
  );
}

function ChartCard({ title, description, children, note }: { title: string; description: string; children: React.ReactNode; note?: React.ReactNode }) {
  return (
    <Card>
      <CardHeader>
        <CardTitle>{title}</CardTitle>
        <CardDescription>{description}</CardDescription>
      </CardHeader>
      <CardContent>
        <div className="h-64 w-full" role="img" aria-label={`${title}: ${description}`}>
          {children}
        </div>
        {note}
      </CardContent>
    </Card>
  );
}

export default function UsagePage() {
  const [range, setRange] = React.useState(30);
  const { from, to } = lastDays(range);
  const session = useSession();
  const plan = session.data?.customer.plan;
  const limits = planLimits(plan);
  const usage = useModeQuery<UsageReport>(["usage", range], "/api/v1/usage", { query: { from, to }, refetchInterval: 30_000 });
  const days = usage.data ? fillDays(usage.data.from, usage.data.to, usage.data.days) : [];
  const t = usage.data?.totals;
  const maxMessages = Math.max(0, ...days.map((d) => Math.max(d.messages_sent, d.messages_received)));
  const maxRequests = Math.max(0, ...days.map((d) => d.api_requests));
  const maxBytes = Math.max(0, ...days.map((d) => Math.max(d.bandwidth_in_bytes, d.bandwidth_out_bytes)));
  const [unit, divisor] = maxBytes >= 1e6 ? ["MB", 1e6] : maxBytes >= 1e3 ? ["kB", 1e3] : ["bytes", 1];
  const data = days.map((d) => ({ ...d, bw_in: d.bandwidth_in_bytes / divisor, bw_out: d.bandwidth_out_bytes / divisor }));

  return (
    <>
      <PageHeader
        title="Usage"
        description={`Counted per UTC day for your whole account. ${planName(plan)} plan: ${
          limits.messagesPerDay ? `${formatNumber(limits.messagesPerDay)} messages and ${formatNumber(limits.requestsPerDay)} requests a day` : "no limits"
        }.`}
        actions={
          <div className="grid gap-1">
            <label htmlFor="usage-range" className="text-xs font-medium">
              Period
            </label>
            <Select id="usage-range" value={range} onChange={(e) => setRange(Number(e.target.value))} className="w-40">
              <option value={7}>Last 7 days</option>
              <option value={30}>Last 30 days</option>
              <option value={90}>Last 90 days</option>
            </Select>
          </div>
        }
      />
      {usage.isPending ? <Loading rows={4} /> : null}
      {usage.error ? <ErrorState error={usage.error} onRetry={() => usage.refetch()} /> : null}
      {t ? (
        <>
          <dl className="mb-4 grid grid-cols-2 gap-4 sm:grid-cols-4">
            {[
              ["Messages sent", formatNumber(t.messages_sent)],
              ["Messages received", formatNumber(t.messages_received)],
              ["API requests", formatNumber(t.api_requests)],
              ["Data transferred", formatBytes(t.bandwidth_in_bytes + t.bandwidth_out_bytes)],
            ].map(([label, value]) => (
              <Card key={label} className="p-4">
                <dt className="text-xs text-muted-foreground">{label}</dt>
                <dd className="text-2xl font-semibold tabular-nums" data-testid={`total-${label}`}>
                  {value}
                </dd>
              </Card>
            ))}
          </dl>
          <div className="grid grid-cols-[minmax(0,1fr)] gap-4 lg:grid-cols-2">
            <ChartCard title="Messages per day" description="Messages sent and received each day, against your plan's daily message limit." note={<LimitNote max={maxMessages} limit={limits.messagesPerDay} what="messages" />}>
              <ResponsiveContainer width="100%" height="100%">
                <BarChart data={data} margin={{ top: 8, right: 8, bottom: 24, left: 16 }}>
                  <CartesianGrid strokeDasharray="3 3" stroke="var(--color-border)" />
                  <XAxis dataKey="date" tickFormatter={shortDate} tick={AXIS} label={{ value: "Day (UTC)", position: "insideBottom", offset: -16, ...AXIS }} />
                  <YAxis allowDecimals={false} tick={AXIS} label={{ value: "Messages", angle: -90, position: "insideLeft", offset: -4, ...AXIS }} />
                  <Tooltip labelFormatter={(d) => shortDate(String(d))} formatter={(v) => [`${formatNumber(Number(v))} messages`]} contentStyle={{ background: "var(--color-card)", borderColor: "var(--color-border)" }} />
                  <Legend verticalAlign="top" height={28} />
                  <Bar isAnimationActive={false} dataKey="messages_sent" name="Sent" fill="var(--color-primary)" />
                  <Bar isAnimationActive={false} dataKey="messages_received" name="Received" fill="var(--color-muted-foreground)" />
                  {nearLimit(maxMessages, limits.messagesPerDay) ? (
                    <ReferenceLine y={limits.messagesPerDay ?? undefined} stroke="var(--color-destructive)" strokeDasharray="4 4" label={{ value: `Limit ${formatNumber(limits.messagesPerDay)}/day`, position: "insideTopRight", ...AXIS }} ifOverflow="extendDomain" />
                  ) : null}
                </BarChart>
              </ResponsiveContainer>
            </ChartCard>
            <ChartCard title="API requests per day" description="Every authenticated call, refused ones included, against your plan's daily request limit." note={<LimitNote max={maxRequests} limit={limits.requestsPerDay} what="requests" />}>
              <ResponsiveContainer width="100%" height="100%">
                <LineChart data={data} margin={{ top: 8, right: 8, bottom: 24, left: 16 }}>
                  <CartesianGrid strokeDasharray="3 3" stroke="var(--color-border)" />
                  <XAxis dataKey="date" tickFormatter={shortDate} tick={AXIS} label={{ value: "Day (UTC)", position: "insideBottom", offset: -16, ...AXIS }} />
                  <YAxis allowDecimals={false} tick={AXIS} label={{ value: "Requests", angle: -90, position: "insideLeft", offset: -4, ...AXIS }} />
                  <Tooltip labelFormatter={(d) => shortDate(String(d))} formatter={(v) => [`${formatNumber(Number(v))} requests`]} contentStyle={{ background: "var(--color-card)", borderColor: "var(--color-border)" }} />
                  <Line isAnimationActive={false} type="linear" dataKey="api_requests" name="Requests" stroke="var(--color-primary)" strokeWidth={2} dot={false} />
                  {nearLimit(maxRequests, limits.requestsPerDay) ? (
                    <ReferenceLine y={limits.requestsPerDay ?? undefined} stroke="var(--color-destructive)" strokeDasharray="4 4" label={{ value: `Limit ${formatNumber(limits.requestsPerDay)}/day`, position: "insideTopRight", ...AXIS }} ifOverflow="extendDomain" />
                  ) : null}
                </LineChart>
              </ResponsiveContainer>
            </ChartCard>
            <ChartCard title="Media sent per day" description="Images (and stickers), videos, and files (documents and audio) sent each day.">
              <ResponsiveContainer width="100%" height="100%">
                <BarChart data={data} margin={{ top: 8, right: 8, bottom: 24, left: 16 }}>
                  <CartesianGrid strokeDasharray="3 3" stroke="var(--color-border)" />
                  <XAxis dataKey="date" tickFormatter={shortDate} tick={AXIS} label={{ value: "Day (UTC)", position: "insideBottom", offset: -16, ...AXIS }} />
                  <YAxis allowDecimals={false} tick={AXIS} label={{ value: "Files", angle: -90, position: "insideLeft", offset: -4, ...AXIS }} />
                  <Tooltip labelFormatter={(d) => shortDate(String(d))} formatter={(v) => [`${formatNumber(Number(v))} files`]} contentStyle={{ background: "var(--color-card)", borderColor: "var(--color-border)" }} />
                  <Legend verticalAlign="top" height={28} />
                  <Bar isAnimationActive={false} dataKey="images_sent" name="Images" stackId="m" fill="var(--color-primary)" />
                  <Bar isAnimationActive={false} dataKey="videos_sent" name="Videos" stackId="m" fill="var(--color-warning)" />
                  <Bar isAnimationActive={false} dataKey="files_sent" name="Files" stackId="m" fill="var(--color-muted-foreground)" />
                </BarChart>
              </ResponsiveContainer>
            </ChartCard>
            <ChartCard title="Data transferred per day" description={`Request and response bodies, in ${unit === "bytes" ? "bytes" : `${unit === "MB" ? "megabytes" : "kilobytes"} (${unit})`}.`}>
              <ResponsiveContainer width="100%" height="100%">
                <LineChart data={data} margin={{ top: 8, right: 8, bottom: 24, left: 16 }}>
                  <CartesianGrid strokeDasharray="3 3" stroke="var(--color-border)" />
                  <XAxis dataKey="date" tickFormatter={shortDate} tick={AXIS} label={{ value: "Day (UTC)", position: "insideBottom", offset: -16, ...AXIS }} />
                  <YAxis tick={AXIS} allowDecimals={unit !== "bytes"} tickFormatter={(v: number) => formatNumber(Math.round(v * 10) / 10)} label={{ value: unit, angle: -90, position: "insideLeft", offset: 0, ...AXIS }} />
                  <Tooltip labelFormatter={(d) => shortDate(String(d))} formatter={(v) => [`${formatNumber(Math.round(Number(v) * 10) / 10)} ${unit}`]} contentStyle={{ background: "var(--color-card)", borderColor: "var(--color-border)" }} />
                  <Legend verticalAlign="top" height={28} />
                  <Line isAnimationActive={false} type="linear" dataKey="bw_in" name="In (requests)" stroke="var(--color-primary)" strokeWidth={2} dot={false} />
                  <Line isAnimationActive={false} type="linear" dataKey="bw_out" name="Out (responses)" stroke="var(--color-muted-foreground)" strokeWidth={2} dot={false} />
                </LineChart>
              </ResponsiveContainer>
            </ChartCard>
          </div>
        </>
      ) : null}
    </>
  );
}
