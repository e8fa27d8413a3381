import { Badge } from "@/components/ui/badge";

type Variant = "default" | "secondary" | "destructive" | "warning" | "outline";

const VARIANTS: Record<string, Variant> = {
  // servers: status
  active: "default",
  initializing: "secondary",
  inactive: "outline",
  maintenance: "warning",
  draining: "warning",
  // health
  healthy: "default",
  degraded: "warning",
  unhealthy: "destructive",
  unknown: "outline",
  // connectivity
  online: "default",
  offline: "destructive",
  never: "outline",
  // customers
  suspended: "destructive",
  deleted: "outline",
  // WhatsApp
  connected: "default",
  disconnected: "outline",
  scanning: "secondary",
  pairing: "secondary",
  logged_out: "outline",
  // audit
  success: "default",
  failure: "destructive",
  info: "outline",
  warning: "warning",
  critical: "destructive",
};

export function label(value: string): string {
  const s = value.replace(/_/g, " ").replace(/\bapi\b/g, "API");
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** A state as a coloured badge, with what it is about for screen readers. */
export function StateBadge({ value, what }: { value: string | null | undefined; what?: string }) {
  const v = value ?? "unknown";
  return (
    <Badge variant={VARIANTS[v] ?? "secondary"}>
      {what ? <span className="sr-only">{what}: </span> : null}
      {label(v)}
    </Badge>
  );
}
