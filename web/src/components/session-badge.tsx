import { Badge } from "@/components/ui/badge";
import { STATE_LABELS } from "@/lib/queries";

export function SessionBadge({ state }: { state: string | undefined }) {
  if (!state) return null;
  const variant = state === "connected" ? "default" : state === "scanning" || state === "pairing" ? "warning" : state === "logged_out" ? "destructive" : "secondary";
  return (
    <Badge variant={variant}>
      <span aria-hidden className={`h-1.5 w-1.5 rounded-full ${state === "connected" ? "bg-primary" : "bg-current opacity-60"}`} />
      {STATE_LABELS[state] ?? state}
    </Badge>
  );
}
