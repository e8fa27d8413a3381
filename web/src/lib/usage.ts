import type { DayUsage } from "./api/types";

const EMPTY: Omit<DayUsage, "date"> = {
  api_requests: 0,
  messages_sent: 0,
  messages_received: 0,
  images_sent: 0,
  videos_sent: 0,
  files_sent: 0,
  bandwidth_in_bytes: 0,
  bandwidth_out_bytes: 0,
};

/** Every UTC day from `from` to `to` (YYYY-MM-DD), with zeros where the report has none. */
export function fillDays(from: string, to: string, days: DayUsage[]): (DayUsage & { date: string })[] {
  const byDate = new Map(days.filter((d) => d.date).map((d) => [d.date!, d]));
  const out: (DayUsage & { date: string })[] = [];
  const end = new Date(`${to}T00:00:00Z`).getTime();
  for (let t = new Date(`${from}T00:00:00Z`).getTime(); t <= end; t += 86_400_000) {
    const date = new Date(t).toISOString().slice(0, 10);
    out.push({ ...EMPTY, ...byDate.get(date), date });
  }
  return out;
}

/** The last `n` UTC days, today included. */
export function lastDays(n: number, now = new Date()): { from: string; to: string } {
  const to = now.toISOString().slice(0, 10);
  const from = new Date(now.getTime() - (n - 1) * 86_400_000).toISOString().slice(0, 10);
  return { from, to };
}
