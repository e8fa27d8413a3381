"use client";
import * as React from "react";
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useQueryClient } from "@tanstack/react-query";
import { Search } from "lucide-react";
import { PageHeader } from "@/components/app-shell";
import { StateBadge } from "@/components/admin/badges";
import { CreateCustomer } from "@/components/admin/create-customer";
import { AdminErrorState, Can, Pagination } from "@/components/admin/states";
import { Empty, Loading } from "@/components/states";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { Input, Select } from "@/components/ui/input";
import { useAdminList } from "@/lib/admin/queries";
import { CUSTOMER_STATUSES, PLANS, customerQuery } from "@/lib/admin/schemas";
import type { Customer, Server } from "@/lib/admin/types";
import { formatDateTime } from "@/lib/format";
import { planName } from "@/lib/plans";

function CustomerList() {
  const qc = useQueryClient();
  const router = useRouter();
  const pathname = usePathname();
  const params = useSearchParams();
  const query = customerQuery({
    q: params.get("q") ?? undefined,
    plan: params.get("plan") ?? undefined,
    status: params.get("status") ?? undefined,
    server_id: params.get("server_id") ?? undefined,
    page: params.get("page") ?? 1,
    per_page: params.get("per_page") ?? 20,
  });
  const [q, setQ] = React.useState(query.q ?? "");
  const customers = useAdminList<Customer>(["customers", "list"], "/api/admin/customers", { query, placeholderData: (prev) => prev });
  const servers = useAdminList<Server>(["servers", "all"], "/api/admin/servers", { query: { per_page: 100 } });
  const list = customers.data?.data ?? [];

  /** Changes the filters in the address (a filter change goes back to page 1). */
  const set = (changes: Record<string, string | number | undefined>) => {
    const next = new URLSearchParams(params.toString());
    for (const [k, v] of Object.entries(changes)) {
      if (v === undefined || v === "") next.delete(k);
      else next.set(k, String(v));
    }
    if (!("page" in changes)) next.delete("page");
    const qs = next.toString();
    router.replace(qs ? `${pathname}?${qs}` : pathname);
  };

  return (
    <>
      <PageHeader
        title="Customers"
        description="Search by e-mail, name or company; filter by plan, status and server."
        actions={
          <Can>
            <CreateCustomer onCreated={() => qc.invalidateQueries({ queryKey: ["admin", "customers"] })} />
          </Can>
        }
      />
      <div className="mb-4 grid gap-3 sm:grid-cols-2 lg:grid-cols-[minmax(0,2fr)_repeat(3,minmax(0,1fr))]">
        <form
          role="search"
          className="grid gap-1"
          onSubmit={(e) => {
            e.preventDefault();
            set({ q: q.trim() });
          }}
        >
          <label htmlFor="customer-search" className="text-xs font-medium">
            Search
          </label>
          <div className="flex gap-2">
            <Input id="customer-search" type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder="E-mail, name or company" />
            <Button type="submit" variant="outline" aria-label="Search customers">
              <Search aria-hidden />
            </Button>
          </div>
        </form>
        <div className="grid gap-1">
          <label htmlFor="filter-plan" className="text-xs font-medium">
            Plan
          </label>
          <Select id="filter-plan" value={query.plan ?? ""} onChange={(e) => set({ plan: e.target.value })}>
            <option value="">Any plan</option>
            {PLANS.map((p) => (
              <option key={p} value={p}>
                {planName(p)}
              </option>
            ))}
          </Select>
        </div>
        <div className="grid gap-1">
          <label htmlFor="filter-status" className="text-xs font-medium">
            Status
          </label>
          <Select id="filter-status" value={query.status ?? ""} onChange={(e) => set({ status: e.target.value })}>
            <option value="">Any status</option>
            {CUSTOMER_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s === "active" ? "Active" : "Suspended"}
              </option>
            ))}
          </Select>
        </div>
        <div className="grid gap-1">
          <label htmlFor="filter-server" className="text-xs font-medium">
            Server
          </label>
          <Select id="filter-server" value={query.server_id ?? ""} onChange={(e) => set({ server_id: e.target.value })}>
            <option value="">Any server</option>
            {servers.data?.data.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </Select>
        </div>
      </div>
      {customers.isPending ? <Loading rows={5} /> : null}
      {customers.error ? <AdminErrorState error={customers.error} onRetry={() => customers.refetch()} /> : null}
      {customers.data && list.length === 0 ? <Empty title="No customers match">Change the search or the filters.</Empty> : null}
      {list.length > 0 ? (
        <Card className={customers.isPlaceholderData ? "relative overflow-x-auto opacity-60 transition-opacity" : "relative overflow-x-auto"} aria-busy={customers.isPlaceholderData}>
          <table className="w-full text-sm">
            <caption className="sr-only">Customers</caption>
            <thead className="border-b text-left text-xs text-muted-foreground">
              <tr>
                <th scope="col" className="px-4 py-2 font-medium">Customer</th>
                <th scope="col" className="px-4 py-2 font-medium">Plan</th>
                <th scope="col" className="px-4 py-2 font-medium">Status</th>
                <th scope="col" className="px-4 py-2 font-medium">WhatsApp</th>
                <th scope="col" className="px-4 py-2 font-medium">Server</th>
                <th scope="col" className="px-4 py-2 font-medium">Created</th>
              </tr>
            </thead>
            <tbody className="divide-y">
              {list.map((c) => (
                <tr key={c.id}>
                  <td className="max-w-64 px-4 py-3">
                    <Link href={`/admin/customers/view?id=${c.id}`} className="block truncate font-medium text-primary hover:underline">
                      {c.email}
                    </Link>
                    <p className="truncate text-xs text-muted-foreground">{[c.full_name, c.company_name].filter(Boolean).join(" · ") || "—"}</p>
                  </td>
                  <td className="px-4 py-3">{planName(c.plan)}</td>
                  <td className="px-4 py-3"><StateBadge value={c.status} what="Status" /></td>
                  <td className="px-4 py-3"><StateBadge value={c.whatsapp_status} what="WhatsApp" /></td>
                  <td className="px-4 py-3 text-xs">{c.assigned_server_name ?? "None"}</td>
                  <td className="px-4 py-3 text-xs whitespace-nowrap">{formatDateTime(c.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Card>
      ) : null}
      {customers.data?.meta ? (
        <Pagination label="customers" page={query.page} perPage={query.per_page} total={customers.data.meta.total} onPage={(p) => set({ page: p })} />
      ) : null}
    </>
  );
}

export default function CustomersPage() {
  return (
    <React.Suspense>
      <CustomerList />
    </React.Suspense>
  );
}
