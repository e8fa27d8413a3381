"use client";
import * as React from "react";
import Link from "next/link";
import { useQueryClient } from "@tanstack/react-query";
import { PageHeader } from "@/components/app-shell";
import { AddServer } from "@/components/admin/add-server";
import { StateBadge, label } from "@/components/admin/badges";
import { Utilisation } from "@/components/admin/utilisation";
import { AdminErrorState, Can, Pagination } from "@/components/admin/states";
import { Empty, Loading } from "@/components/states";
import { Card } from "@/components/ui/card";
import { Select } from "@/components/ui/input";
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
        <div className="grid gap-1">
          <label htmlFor="filter-status" className="text-xs font-medium">
            Status
          </label>
          <Select id="filter-status" className="w-40" value={status} onChange={(e) => (setStatus(e.target.value), setPage(1))}>
            <option value="">Any status</option>
            {["initializing", ...SERVER_STATUSES].map((s) => (
              <option key={s} value={s}>
                {label(s)}
              </option>
            ))}
          </Select>
        </div>
        <div className="grid gap-1">
          <label htmlFor="filter-health" className="text-xs font-medium">
            Health
          </label>
          <Select id="filter-health" className="w-40" value={health} onChange={(e) => (setHealth(e.target.value), setPage(1))}>
            <option value="">Any health</option>
            {HEALTH.map((s) => (
              <option key={s} value={s}>
                {label(s)}
              </option>
            ))}
          </Select>
        </div>
      </div>
      {servers.isPending ? <Loading rows={3} /> : null}
      {servers.error ? <AdminErrorState error={servers.error} onRetry={() => servers.refetch()} /> : null}
      {servers.data && list.length === 0 ? <Empty title="No servers match">Add a server, or change the filters.</Empty> : null}
      {list.length > 0 ? (
        <Card className="relative overflow-x-auto">
          <table className="w-full text-sm">
            <caption className="sr-only">Servers</caption>
            <thead className="border-b text-left text-xs text-muted-foreground">
              <tr>
                <th scope="col" className="px-4 py-2 font-medium">Server</th>
                <th scope="col" className="px-4 py-2 font-medium">Status</th>
                <th scope="col" className="px-4 py-2 font-medium">Health</th>
                <th scope="col" className="px-4 py-2 font-medium">Connectivity</th>
                <th scope="col" className="px-4 py-2 font-medium">Customers</th>
                <th scope="col" className="px-4 py-2 font-medium">Last heartbeat</th>
              </tr>
            </thead>
            <tbody className="divide-y">
              {list.map((s) => (
                <tr key={s.id}>
                  <td className="px-4 py-3">
                    <Link href={`/admin/servers/view?id=${s.id}`} className="font-medium text-primary hover:underline">
                      {s.name}
                    </Link>
                    <p className="text-xs text-muted-foreground">
                      {s.ip_address}
                      {s.region ? ` · ${s.region}` : ""}
                    </p>
                  </td>
                  <td className="px-4 py-3"><StateBadge value={s.status} what="Status" /></td>
                  <td className="px-4 py-3"><StateBadge value={s.health_status} what="Health" /></td>
                  <td className="px-4 py-3"><StateBadge value={s.connectivity_status} what="Connectivity" /></td>
                  <td className="px-4 py-3"><Utilisation server={s} /></td>
                  <td className="px-4 py-3 text-xs whitespace-nowrap">{s.last_heartbeat ? formatDateTime(s.last_heartbeat) : "Never"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Card>
      ) : null}
      {servers.data?.meta ? <Pagination label="servers" page={page} perPage={50} total={servers.data.meta.total} onPage={setPage} /> : null}
    </>
  );
}
