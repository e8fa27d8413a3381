"use client";
import * as React from "react";
import { Card } from "@/components/ui/card";
import type { AuditLog } from "@/lib/admin/types";
import { formatDateTime } from "@/lib/format";
import { StateBadge, label } from "./badges";

function short(id: string | null | undefined): string {
  if (!id) return "";
  // UUIDv7 ids share their first characters (a timestamp): their end tells them apart.
  return id.length > 13 ? `…${id.slice(-8)}` : id;
}

/** Audit rows, newest first, each with its details behind a disclosure. */
export function LogTable({ rows, caption }: { rows: AuditLog[]; caption: string }) {
  return (
    <Card className="relative overflow-x-auto">
      <table className="w-full text-sm">
        <caption className="sr-only">{caption}</caption>
        <thead className="border-b text-left text-xs text-muted-foreground">
          <tr>
            <th scope="col" className="hidden px-3 py-2 font-medium sm:table-cell">Time</th>
            <th scope="col" className="px-3 py-2 font-medium">Event</th>
            <th scope="col" className="hidden px-3 py-2 font-medium md:table-cell">Actor</th>
            <th scope="col" className="hidden px-3 py-2 font-medium md:table-cell">Resource</th>
            <th scope="col" className="px-3 py-2 font-medium">Result</th>
            <th scope="col" className="px-3 py-2 font-medium">Details</th>
          </tr>
        </thead>
        <tbody className="divide-y align-top">
          {rows.map((l) => (
            <tr key={l.id} data-testid="log-row" data-request-id={l.request_id ?? undefined}>
              <td className="hidden px-3 py-2 text-xs whitespace-nowrap sm:table-cell">{formatDateTime(l.timestamp)}</td>
              <td className="max-w-72 px-3 py-2">
                <p className="break-words font-medium">{l.action}</p>
                <p className="text-xs text-muted-foreground">{label(l.event_type)}</p>
                <p className="text-xs text-muted-foreground sm:hidden">{formatDateTime(l.timestamp)}</p>
                <p className="text-xs text-muted-foreground md:hidden">
                  {label(l.actor_type)}
                  {l.resource_type ? ` → ${label(l.resource_type)}` : ""}
                </p>
              </td>
              <td className="hidden px-3 py-2 text-xs md:table-cell">
                <p>{label(l.actor_type)}</p>
                {l.actor_id ? (
                  <code className="whitespace-nowrap text-muted-foreground" title={l.actor_id}>
                    {short(l.actor_id)}
                  </code>
                ) : null}
              </td>
              <td className="hidden px-3 py-2 text-xs md:table-cell">
                {l.resource_type ? <p>{label(l.resource_type)}</p> : "—"}
                {l.resource_id ? (
                  <code className="whitespace-nowrap text-muted-foreground" title={l.resource_id}>
                    {short(l.resource_id)}
                  </code>
                ) : null}
              </td>
              <td className="px-3 py-2">
                <div className="flex flex-wrap gap-1">
                  <StateBadge value={l.status ?? "success"} what="Result" />
                  {l.severity !== "info" ? <StateBadge value={l.severity} what="Severity" /> : null}
                </div>
              </td>
              <td className="px-3 py-2 text-xs">
                <details>
                  <summary className="cursor-pointer text-primary">Show</summary>
                  <dl className="mt-2 grid min-w-56 grid-cols-[auto_minmax(0,1fr)] gap-x-2 gap-y-1">
                    <dt className="text-muted-foreground">Actor</dt>
                    <dd>
                      <code className="break-all">{l.actor_id ?? l.actor_type}</code>
                    </dd>
                    {l.resource_id ? (
                      <>
                        <dt className="text-muted-foreground">{label(l.resource_type ?? "resource")}</dt>
                        <dd>
                          <code className="break-all">{l.resource_id}</code>
                        </dd>
                      </>
                    ) : null}
                    <dt className="text-muted-foreground">Request id</dt>
                    <dd>
                      <code className="break-all">{l.request_id ?? "—"}</code>
                    </dd>
                    <dt className="text-muted-foreground">Address</dt>
                    <dd>{l.ip_address ?? "—"}</dd>
                    <dt className="text-muted-foreground">Duration</dt>
                    <dd>{l.duration_ms !== null && l.duration_ms !== undefined ? `${l.duration_ms} ms` : "—"}</dd>
                    {l.error_message ? (
                      <>
                        <dt className="text-muted-foreground">Error</dt>
                        <dd className="break-words text-destructive">{l.error_message}</dd>
                      </>
                    ) : null}
                    {l.user_agent ? (
                      <>
                        <dt className="text-muted-foreground">Client</dt>
                        <dd className="break-words">{l.user_agent}</dd>
                      </>
                    ) : null}
                  </dl>
                  {l.metadata ? <pre className="mt-2 max-w-96 overflow-x-auto rounded bg-muted p-2 font-mono text-[11px]">{JSON.stringify(l.metadata, null, 2)}</pre> : null}
                </details>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Card>
  );
}
