"use client";
import * as React from "react";
import { DailyChart } from "@/components/admin/charts";
import { Card } from "@/components/ui/card";
import type { UsageReport } from "@/lib/admin/types";
import { formatBytes, formatNumber } from "@/lib/format";
import { fillDays } from "@/lib/usage";

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
        <DailyChart
          title="Messages per day"
          description="Sent and received, live and test sessions together."
          days={days}
          series={[
            { key: "messages_sent", name: "Sent" },
            { key: "messages_received", name: "Received" },
          ]}
          yLabel="Messages"
          unit="messages"
        />
        <DailyChart
          title="API requests per day"
          description="Every authenticated call, refused ones included."
          days={days}
          series={[{ key: "api_requests", name: "Requests" }]}
          yLabel="Requests"
          unit="requests"
        />
      </div>
    </div>
  );
}
