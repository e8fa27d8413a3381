"use client";
// The admin panel's charts (recharts, never animated): a time range switch, metric series
// over a range, and counts per UTC day. Each has its units on the axes and says so when
// there is nothing to draw.
import * as React from "react";
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { Empty } from "@/components/states";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { METRIC_RANGES, RANGE_LABELS, rangeTick, type MetricRange } from "@/lib/admin/periods";
import { formatNumber } from "@/lib/format";
import { cn } from "@/lib/utils";

export const AXIS = { fontSize: 12, fill: "var(--color-muted-foreground)" };
export const TOOLTIP = { background: "var(--color-card)", borderColor: "var(--color-border)" };
export const MARGIN = { top: 8, right: 8, bottom: 24, left: 16 };
/** Series colours that read in light and dark mode. */
export const COLORS = ["var(--color-primary)", "oklch(0.6 0.15 250)", "var(--color-warning)", "var(--color-destructive)", "var(--color-muted-foreground)"];
export const shortDate = (d: string) => new Date(`${d}T00:00:00Z`).toLocaleDateString(undefined, { month: "short", day: "numeric", timeZone: "UTC" });

/** 1h / 24h / 7d / 30d as a group of toggle buttons. */
export function RangeSwitch({ value, onChange, className }: { value: MetricRange; onChange: (r: MetricRange) => void; className?: string }) {
  return (
    <div role="group" aria-label="Time range" className={cn("inline-flex rounded-md border bg-background p-0.5", className)}>
      {METRIC_RANGES.map((r) => (
        <button
          key={r}
          type="button"
          aria-pressed={value === r}
          title={RANGE_LABELS[r]}
          onClick={() => onChange(r)}
          className={cn(
            "rounded px-3 py-1 text-sm font-medium text-muted-foreground transition-colors hover:text-foreground focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring",
            value === r && "bg-primary text-primary-foreground hover:text-primary-foreground",
          )}
        >
          <span className="sr-only">{RANGE_LABELS[r]} </span>
          <span aria-hidden>{r}</span>
        </button>
      ))}
    </div>
  );
}

/** A chart in a card, with its title and what it shows. */
export function ChartCard({ title, description, children, testId }: { title: string; description?: React.ReactNode; children: React.ReactNode; testId?: string }) {
  return (
    <Card data-testid={testId}>
      <CardHeader>
        <CardTitle>{title}</CardTitle>
        {description ? <CardDescription>{description}</CardDescription> : null}
      </CardHeader>
      <CardContent>{children}</CardContent>
    </Card>
  );
}

export interface Series<K extends string = string> {
  key: K;
  name: string;
}

/** Whether any point has a number for any of the series. */
export function hasValues<P extends object>(points: P[], series: Series<keyof P & string>[]): boolean {
  return points.some((p) => series.some((s) => typeof p[s.key] === "number"));
}

function value(v: unknown, unit: string, decimals: number): string {
  if (typeof v !== "number") return "no data";
  return `${v.toLocaleString("en-US", { maximumFractionDigits: decimals })}${unit ? ` ${unit}` : ""}`;
}

/**
 * Metric series over a time range (one line each); gaps where no server reported. `unit`
 * goes on the y axis and in the tooltip; `max` fixes the top (100 for percentages).
 */
export function TimeChart<P extends { at: string }>({
  title,
  description,
  points,
  series,
  range,
  from,
  to,
  unit,
  yLabel,
  max,
  decimals = 1,
  testId,
}: {
  title: string;
  description?: React.ReactNode;
  points: P[];
  series: Series<keyof P & string>[];
  range: MetricRange;
  from: string;
  to: string;
  unit: string;
  yLabel: string;
  max?: number;
  decimals?: number;
  testId?: string;
}) {
  const data = React.useMemo(() => points.map((p) => ({ ...p, t: Date.parse(p.at) })).sort((a, b) => a.t - b.t), [points]);
  const empty = !hasValues(points, series);
  const sparse = data.length <= 3;
  return (
    <ChartCard title={title} description={description} testId={testId}>
      {empty ? (
        <Empty title="No data in this range">Points appear once a server reports its metrics (every few seconds while it runs).</Empty>
      ) : (
        <div className="h-56 w-full overflow-hidden" role="img" aria-label={`${title}, ${RANGE_LABELS[range].toLowerCase()}, in ${yLabel.toLowerCase()}`}>
          <ResponsiveContainer width="100%" height="100%">
            <LineChart data={data} margin={MARGIN}>
              <CartesianGrid strokeDasharray="3 3" stroke="var(--color-border)" />
              <XAxis
                dataKey="t"
                type="number"
                scale="time"
                domain={[Date.parse(from), Date.parse(to)]}
                tickFormatter={(t) => rangeTick(range, t)}
                tick={AXIS}
                minTickGap={24}
                label={{ value: "Time", position: "insideBottom", offset: -16, ...AXIS }}
              />
              <YAxis
                tick={AXIS}
                domain={[0, max ?? "auto"]}
                allowDecimals={decimals > 0}
                width={48}
                label={{ value: yLabel, angle: -90, position: "insideLeft", offset: -4, ...AXIS, style: { textAnchor: "middle" } }}
              />
              <Tooltip
                labelFormatter={(t) => new Date(Number(t)).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" })}
                formatter={(v, name) => [value(v, unit, decimals), name]}
                contentStyle={TOOLTIP}
              />
              {series.length > 1 ? <Legend verticalAlign="top" height={28} wrapperStyle={{ fontSize: 12 }} itemSorter={null} /> : null}
              {series.map((s, i) => (
                <Line
                  key={s.key}
                  isAnimationActive={false}
                  type="linear"
                  dataKey={s.key}
                  name={s.name}
                  stroke={COLORS[i % COLORS.length]}
                  strokeWidth={2}
                  dot={sparse ? { r: 3 } : false}
                  connectNulls={false}
                />
              ))}
            </LineChart>
          </ResponsiveContainer>
        </div>
      )}
    </ChartCard>
  );
}

/** Counts per UTC day as grouped bars. */
export function DailyChart<D extends { date: string }>({
  title,
  description,
  days,
  series,
  yLabel,
  unit,
  testId,
}: {
  title: string;
  description?: React.ReactNode;
  days: D[];
  series: Series<keyof D & string>[];
  yLabel: string;
  unit: string;
  testId?: string;
}) {
  const empty = days.length === 0;
  return (
    <ChartCard title={title} description={description} testId={testId}>
      {empty ? (
        <Empty title="No days in this range" />
      ) : (
        <div className="h-56 w-full overflow-hidden" role="img" aria-label={`${title} in ${yLabel.toLowerCase()}`}>
          <ResponsiveContainer width="100%" height="100%">
            <BarChart data={days} margin={MARGIN}>
              <CartesianGrid strokeDasharray="3 3" stroke="var(--color-border)" />
              <XAxis dataKey="date" tickFormatter={shortDate} tick={AXIS} minTickGap={16} label={{ value: "Day (UTC)", position: "insideBottom", offset: -16, ...AXIS }} />
              <YAxis allowDecimals={false} tick={AXIS} width={48} label={{ value: yLabel, angle: -90, position: "insideLeft", offset: -4, ...AXIS, style: { textAnchor: "middle" } }} />
              <Tooltip labelFormatter={(d) => shortDate(String(d))} formatter={(v, name) => [`${formatNumber(Number(v))}${unit ? ` ${unit}` : ""}`, name]} contentStyle={TOOLTIP} />
              <Legend verticalAlign="top" height={28} wrapperStyle={{ fontSize: 12 }} itemSorter={null} />
              {series.map((s, i) => (
                <Bar key={s.key} isAnimationActive={false} dataKey={s.key as string} name={s.name} fill={COLORS[i % COLORS.length]} />
              ))}
            </BarChart>
          </ResponsiveContainer>
        </div>
      )}
    </ChartCard>
  );
}
