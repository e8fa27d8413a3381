"use client";
import * as React from "react";
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import type { UsageReport } from "@/lib/admin/types";
import { formatBytes, formatNumber } from "@/lib/format";
import { fillDays } from "@/lib/usage";

const AXIS = { fontSize: 12, fill: "var(--color-muted-foreground)" };
const shortDate = (d: string) => new Date(`${d}T00:00:00Z`).toLocaleDateString(undefined, { month: "short", day: "numeric", timeZone: "UTC" });
const TOOLTIP = { background: "var(--color-card)", borderColor: "var(--color-border)" };

/** A customer's usage report: totals, messages and API requests per UTC day. */
export function UsageCharts({ report }: { report: UsageReport }) {
  const days = fillDays(report.from, report.to, report.days);
  const t = report.totals;
  return (
    <div className="grid grid-cols-[minmax(0,1fr)] gap-4">
      <dl className="grid grid-cols-2 gap-3 sm:grid-cols-4">
        {[
          ["Messages sent", formatNumber(t.messages_sent)],
          ["Messages received", formatNumber(t.messages_received)],
          ["API requests", formatNumber(t.api_requests)],
          ["Data transferred", formatBytes(t.bandwidth_in_bytes + t.bandwidth_out_bytes)],
        ].map(([k, v]) => (
          <Card key={k} className="p-4">
            <dt className="text-xs text-muted-foreground">{k}</dt>
            <dd className="text-2xl font-semibold tabular-nums" data-testid={`usage-${k}`}>
              {v}
            </dd>
          </Card>
        ))}
      </dl>
      <div className="grid grid-cols-[minmax(0,1fr)] gap-4 lg:grid-cols-2">
        <Card>
          <CardHeader>
            <CardTitle>Messages per day</CardTitle>
            <CardDescription>Sent and received, live and test sessions together.</CardDescription>
          </CardHeader>
          <CardContent>
            <div className="h-56 w-full" role="img" aria-label="Messages sent and received per day">
              <ResponsiveContainer width="100%" height="100%">
                <BarChart data={days} margin={{ top: 8, right: 8, bottom: 24, left: 16 }}>
                  <CartesianGrid strokeDasharray="3 3" stroke="var(--color-border)" />
                  <XAxis dataKey="date" tickFormatter={shortDate} tick={AXIS} label={{ value: "Day (UTC)", position: "insideBottom", offset: -16, ...AXIS }} />
                  <YAxis allowDecimals={false} tick={AXIS} label={{ value: "Messages", angle: -90, position: "insideLeft", offset: -4, ...AXIS }} />
                  <Tooltip labelFormatter={(d) => shortDate(String(d))} formatter={(v) => [`${formatNumber(Number(v))} messages`]} contentStyle={TOOLTIP} />
                  <Legend verticalAlign="top" height={28} />
                  <Bar isAnimationActive={false} dataKey="messages_sent" name="Sent" fill="var(--color-primary)" />
                  <Bar isAnimationActive={false} dataKey="messages_received" name="Received" fill="var(--color-muted-foreground)" />
                </BarChart>
              </ResponsiveContainer>
            </div>
          </CardContent>
        </Card>
        <Card>
          <CardHeader>
            <CardTitle>API requests per day</CardTitle>
            <CardDescription>Every authenticated call, refused ones included.</CardDescription>
          </CardHeader>
          <CardContent>
            <div className="h-56 w-full" role="img" aria-label="API requests per day">
              <ResponsiveContainer width="100%" height="100%">
                <LineChart data={days} margin={{ top: 8, right: 8, bottom: 24, left: 16 }}>
                  <CartesianGrid strokeDasharray="3 3" stroke="var(--color-border)" />
                  <XAxis dataKey="date" tickFormatter={shortDate} tick={AXIS} label={{ value: "Day (UTC)", position: "insideBottom", offset: -16, ...AXIS }} />
                  <YAxis allowDecimals={false} tick={AXIS} label={{ value: "Requests", angle: -90, position: "insideLeft", offset: -4, ...AXIS }} />
                  <Tooltip labelFormatter={(d) => shortDate(String(d))} formatter={(v) => [`${formatNumber(Number(v))} requests`]} contentStyle={TOOLTIP} />
                  <Line isAnimationActive={false} type="linear" dataKey="api_requests" name="Requests" stroke="var(--color-primary)" strokeWidth={2} dot={false} />
                </LineChart>
              </ResponsiveContainer>
            </div>
          </CardContent>
        </Card>
      </div>
    </div>
  );
}
