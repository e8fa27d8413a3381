"use client";
import * as React from "react";
import { AlertCircle, ChevronLeft, ChevronRight } from "lucide-react";
import { Button } from "@/components/ui/button";
import { adminErrorMessage } from "@/lib/admin/errors";
import { useOperator } from "@/lib/admin/api";
import { hasRole } from "@/lib/admin/roles";
import { pageCount } from "@/lib/admin/schemas";
import type { Role } from "@/lib/admin/types";
import { formatNumber } from "@/lib/format";

/** Whether the signed-in operator has at least `min`. */
export function useCan(min: Role): boolean {
  return hasRole(useOperator().data?.role, min);
}

/** Children only for operators with at least `min` (viewers see no control they cannot use). */
export function Can({ min = "admin", children }: { min?: Role; children: React.ReactNode }) {
  return useCan(min) ? <>{children}</> : null;
}

export function AdminFormError({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p role="alert" className="rounded-md border border-destructive/40 bg-destructive/10 px-3 py-2 text-sm text-destructive">
      {adminErrorMessage(error)}
    </p>
  );
}

export function AdminErrorState({ error, onRetry, title = "This could not be loaded" }: { error: unknown; onRetry?: () => void; title?: string }) {
  return (
    <div role="alert" className="flex flex-col items-start gap-3 rounded-md border border-destructive/40 bg-destructive/10 p-4 text-sm">
      <div className="flex items-start gap-2">
        <AlertCircle className="mt-0.5 h-4 w-4 shrink-0 text-destructive" aria-hidden />
        <div>
          <p className="font-medium">{title}</p>
          <p className="text-muted-foreground">{adminErrorMessage(error)}</p>
        </div>
      </div>
      {onRetry ? (
        <Button variant="outline" size="sm" onClick={onRetry}>
          Try again
        </Button>
      ) : null}
    </div>
  );
}

/** Previous/next over a paged list, with where we are. */
export function Pagination({ page, perPage, total, onPage, label }: { page: number; perPage: number; total: number; onPage: (p: number) => void; label: string }) {
  const pages = pageCount(total, perPage);
  const first = total === 0 ? 0 : (page - 1) * perPage + 1;
  const last = Math.min(total, page * perPage);
  return (
    <nav aria-label={`${label} pages`} className="mt-3 flex flex-wrap items-center justify-between gap-2 text-sm">
      <p className="text-muted-foreground" aria-live="polite">
        {total === 0 ? `No ${label}` : `${formatNumber(first)}–${formatNumber(last)} of ${formatNumber(total)} ${label}`}
      </p>
      <div className="flex items-center gap-2">
        <Button variant="outline" size="sm" disabled={page <= 1} onClick={() => onPage(page - 1)} aria-label="Previous page">
          <ChevronLeft aria-hidden /> Previous
        </Button>
        <span className="tabular-nums text-muted-foreground">
          Page {page} of {pages}
        </span>
        <Button variant="outline" size="sm" disabled={page >= pages} onClick={() => onPage(page + 1)} aria-label="Next page">
          Next <ChevronRight aria-hidden />
        </Button>
      </div>
    </nav>
  );
}
