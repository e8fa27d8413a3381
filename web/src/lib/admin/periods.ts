// Time ranges of the metrics charts, billing periods (UTC calendar days), the billing CSV's
// link, and the money and percent formats of the billing page.

export const METRIC_RANGES = ["1h", "24h", "7d", "30d"] as const;
export type MetricRange = (typeof METRIC_RANGES)[number];
export const DEFAULT_RANGE: MetricRange = "24h";

export const RANGE_LABELS: Record<MetricRange, string> = { "1h": "Last hour", "24h": "Last 24 hours", "7d": "Last 7 days", "30d": "Last 30 days" };

/** A range from the address (or anything else): one the API takes, else 24h. */
export function parseRange(v: string | null | undefined): MetricRange {
  return (METRIC_RANGES as readonly string[]).includes(v ?? "") ? (v as MetricRange) : DEFAULT_RANGE;
}

/** How a chart's time axis writes an instant of the range (browser time zone). */
export function rangeTick(range: MetricRange, at: number | string, locale?: string): string {
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return "";
  if (range === "1h" || range === "24h") return d.toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit" });
  if (range === "7d") return d.toLocaleDateString(locale, { weekday: "short" }) + " " + d.toLocaleTimeString(locale, { hour: "numeric" });
  return d.toLocaleDateString(locale, { month: "short", day: "numeric" });
}

const DAY = 86_400_000;
/** The most days one billing period may span (the API's rule). */
export const MAX_PERIOD_DAYS = 366;

/** A day (YYYY-MM-DD) of a UTC instant. */
export function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** The 1st of this month to today (UTC): the API's default period. */
export function thisMonth(now = new Date()): { from: string; to: string } {
  return { from: isoDay(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1))), to: isoDay(now) };
}

/** The whole previous calendar month (UTC). */
export function lastMonth(now = new Date()): { from: string; to: string } {
  const first = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  const last = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 0));
  return { from: isoDay(first), to: isoDay(last) };
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
function parseDay(v: string): number | null {
  if (!DATE.test(v)) return null;
  const t = Date.parse(`${v}T00:00:00Z`);
  return Number.isNaN(t) || isoDay(new Date(t)) !== v ? null : t;
}

/** Days from `from` to `to`, both counted. */
export function periodDays(from: string, to: string): number {
  const a = parseDay(from);
  const b = parseDay(to);
  return a === null || b === null ? 0 : Math.round((b - a) / DAY) + 1;
}

export type PeriodError = { field: "from" | "to"; message: string };

/** Why a custom period would be refused (the API's rules), or null when it is fine. */
export function periodError(from: string, to: string): PeriodError | null {
  if (parseDay(from) === null) return { field: "from", message: "Enter a start date" };
  if (parseDay(to) === null) return { field: "to", message: "Enter an end date" };
  const days = periodDays(from, to);
  if (days < 1) return { field: "to", message: "The end date must not be before the start date" };
  if (days > MAX_PERIOD_DAYS) return { field: "to", message: `A period spans at most ${MAX_PERIOD_DAYS} days (this one ${days})` };
  return null;
}

export const PERIOD_KINDS = ["this_month", "last_month", "custom"] as const;
export type PeriodKind = (typeof PERIOD_KINDS)[number];

/**
 * The billing period the address asks for: `period=last_month`, `period=custom&from=&to=`
 * (when valid), else this month.
 */
export function billingPeriod(params: { period?: string | null; from?: string | null; to?: string | null }, now = new Date()): { kind: PeriodKind; from: string; to: string } {
  if (params.period === "last_month") return { kind: "last_month", ...lastMonth(now) };
  if (params.period === "custom" && params.from && params.to && !periodError(params.from, params.to)) {
    return { kind: "custom", from: params.from, to: params.to };
  }
  return { kind: "this_month", ...thisMonth(now) };
}

/** The same-origin link that downloads the period's CSV (the operator's cookie goes with it). */
export function billingCsvUrl(from: string, to: string): string {
  return `/api/admin/billing/export.csv?${new URLSearchParams({ from, to }).toString()}`;
}

/** The file name the server gives the CSV. */
export function billingCsvName(from: string, to: string): string {
  return `wasp-billing-${from}-${to}.csv`;
}

/** US dollars: "$1,234.56"; `digits` more for estimated costs ("$0.0123"). */
export function formatMoney(n: number | null | undefined, digits = 2): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "—";
  return n.toLocaleString("en-US", { style: "currency", currency: "USD", minimumFractionDigits: 2, maximumFractionDigits: digits });
}

/** A percentage with one decimal ("42.5 %"), or "—". */
export function formatPercent(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "—";
  return `${n.toLocaleString("en-US", { maximumFractionDigits: 1, minimumFractionDigits: 0 })} %`;
}

/** A period as a person reads it: "Dec 1 – Dec 3, 2026". */
export function formatPeriod(from: string, to: string, locale = "en-US"): string {
  const f = new Date(`${from}T00:00:00Z`);
  const t = new Date(`${to}T00:00:00Z`);
  if (Number.isNaN(f.getTime()) || Number.isNaN(t.getTime())) return `${from} – ${to}`;
  const day = (d: Date, year: boolean) => d.toLocaleDateString(locale, { month: "short", day: "numeric", year: year ? "numeric" : undefined, timeZone: "UTC" });
  return from === to ? day(f, true) : `${day(f, f.getUTCFullYear() !== t.getUTCFullYear())} – ${day(t, true)}`;
}
