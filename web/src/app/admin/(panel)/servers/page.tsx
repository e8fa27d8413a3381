"use client";
import * as React from "react";
import Link from "next/link";
import { useQueryClient } from "@tanstack/react-query";
import { PageHeader } from "@/components/app-shell";
import { AddServer } from "@/components/admin/add-server";
import { FilterSelect } from "@/components/filter-select";
import { StateBadge, label } from "@/components/admin/badges";
import { Utilisation } from "@/components/admin/utilisation";
import { AdminErrorState, Can, Pagination } from "@/components/admin/states";
import { Empty, Loading } from "@/components/states";
import { TableCard, Td } from "@/components/ui/table";
import { useAdminList } from "@/lib/admin/queries";
import { SERVER_STATUSES } from "@/lib/admin/schemas";
import type { Server } from "@/lib/admin/types";
import { formatDateTime } from "@/lib/format";

const HEALTH = ["healthy", "degraded", "unhealthy", "unknown"];

export default function ServersPage() {
  const qc = useQueryClient();
  const [status, setStatus] = React.useState("");
  const [health, setHealth] = React.useState("");
  const [page, setPage] = React.useState(1);
  const query = { status: status || undefined, health_status: health || undefined, page, per_page: 50 };
  const servers = useAdminList<Server>(["servers", "list"], "/api/admin/servers", { query, refetchInterval: 15_000 });
  const list = servers.data?.data ?? [];
  const refresh = () => qc.invalidateQueries({ queryKey: ["admin", "servers"] });

  return (
    <>
      <PageHeader
        title="Servers"
        description="The machines running wasp workers: health from their metrics, connectivity from their heartbeats, and how full they are."
        actions={
          <Can>
            <AddServer onAdded={refresh} />
          </Can>
        }
      />
      <div className="mb-4 flex flex-wrap gap-3">
        <FilterSelect id="filter-status" label="Status" className="w-40" value={status} onChange={(v) => (setStatus(v), setPage(1))} any="Any status" options={["initializing", ...SERVER_STATUSES].map((s) => [s, label(s)] as const)} />
        <FilterSelect id="filter-health" label="Health" className="w-40" value={health} onChange={(v) => (setHealth(v), setPage(1))} any="Any health" options={HEALTH.map((s) => [s, label(s)] as const)} />
      </div>
      {servers.isPending ? <Loading rows={3} /> : null}
      {servers.error ? <AdminErrorState error={servers.error} onRetry={() => servers.refetch()} /> : null}
      {servers.data && list.length === 0 ? <Empty title="No servers match">Add a server, or change the filters.</Empty> : null}
      {list.length > 0 ? (
        <TableCard caption="Servers" columns={["Server", "Status", "Health", "Connectivity", "Customers", "Last heartbeat"]}>
          {list.map((s) => (
            <tr key={s.id}>
              <Td>
                <Link href={`/admin/servers/view?id=${s.id}`} className="font-medium text-primary hover:underline">
                  {s.name}
                </Link>
                <p className="text-xs text-muted-foreground">
                  {s.ip_address}
                  {s.region ? ` · ${s.region}` : ""}
                </p>
              </Td>
              <Td><StateBadge value={s.status} what="Status" /></Td>
              <Td><StateBadge value={s.health_status} what="Health" /></Td>
              <Td><StateBadge value={s.connectivity_status} what="Connectivity" /></Td>
              <Td><Utilisation server={s} /></Td>
              <Td className="text-xs whitespace-nowrap">{s.last_heartbeat ? formatDateTime(s.last_heartbeat) : "Never"}</Td>
            </tr>
          ))}
        </TableCard>
      ) : null}
      {servers.data?.meta ? <Pagination label="servers" page={page} perPage={50} total={servers.data.meta.total} onPage={setPage} /> : null}
    </>
  );
}
