import type { Server } from "@/lib/admin/types";
import { formatNumber } from "@/lib/format";

/** Customers placed on a server against its capacity. */
export function Utilisation({ server }: { server: Server }) {
  const pct = Math.round(server.utilization_percent);
  return (
    <div className="grid min-w-28 gap-1">
      <span className="text-xs tabular-nums">
        {formatNumber(server.current_load)} / {formatNumber(server.max_capacity)} <span className="text-muted-foreground">({pct} %)</span>
      </span>
      <div className="h-1.5 overflow-hidden rounded bg-muted" role="img" aria-label={`${pct} % of capacity used`}>
        <div className={pct >= 90 ? "h-full bg-destructive" : pct >= 75 ? "h-full bg-warning" : "h-full bg-primary"} style={{ width: `${Math.min(100, pct)}%` }} />
      </div>
    </div>
  );
}
