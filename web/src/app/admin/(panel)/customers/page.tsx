"use client";
import * as React from "react";
import Link from "next/link";
import { useQueryClient } from "@tanstack/react-query";
import { Search } from "lucide-react";
import { PageHeader } from "@/components/app-shell";
import { StateBadge, label } from "@/components/admin/badges";
import { CreateCustomer } from "@/components/admin/create-customer";
import { FilterSelect } from "@/components/filter-select";
import { AdminErrorState, Can, Pagination } from "@/components/admin/states";
import { Empty, Loading } from "@/components/states";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { TableCard, Td } from "@/components/ui/table";
import { useAdminList } from "@/lib/admin/queries";
import { CUSTOMER_STATUSES, PLANS, WHATSAPP_STATES, customerQuery } from "@/lib/admin/schemas";
import type { Customer, Server } from "@/lib/admin/types";
import { formatDateTime } from "@/lib/format";
import { planName } from "@/lib/plans";
import { useAddressFilters } from "@/lib/use-address";

function CustomerList() {
  const qc = useQueryClient();
  const { params, set } = useAddressFilters();
  const query = customerQuery({
    q: params.get("q") ?? undefined,
    plan: params.get("plan") ?? undefined,
    status: params.get("status") ?? undefined,
    whatsapp_status: params.get("whatsapp_status") ?? undefined,
    server_id: params.get("server_id") ?? undefined,
    page: params.get("page") ?? 1,
    per_page: params.get("per_page") ?? 20,
  });
  const [q, setQ] = React.useState(query.q ?? "");
  const customers = useAdminList<Customer>(["customers", "list"], "/api/admin/customers", { query, placeholderData: (prev) => prev });
  const servers = useAdminList<Server>(["servers", "all"], "/api/admin/servers", { query: { per_page: 100 } });
  const list = customers.data?.data ?? [];

  return (
    <>
      <PageHeader
        title="Customers"
        description="Search by e-mail, name or company; filter by plan, status, WhatsApp state and server."
        actions={
          <Can>
            <CreateCustomer onCreated={() => qc.invalidateQueries({ queryKey: ["admin", "customers"] })} />
          </Can>
        }
      />
      <div className="mb-4 grid gap-3 sm:grid-cols-2 lg:grid-cols-[minmax(0,2fr)_repeat(4,minmax(0,1fr))]">
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
        <FilterSelect id="filter-plan" label="Plan" value={query.plan ?? ""} onChange={(v) => set({ plan: v })} any="Any plan" options={PLANS.map((p) => [p, planName(p)] as const)} />
        <FilterSelect id="filter-status" label="Status" value={query.status ?? ""} onChange={(v) => set({ status: v })} any="Any status" options={CUSTOMER_STATUSES.map((s) => [s, label(s)] as const)} />
        <FilterSelect id="filter-whatsapp" label="WhatsApp" value={query.whatsapp_status ?? ""} onChange={(v) => set({ whatsapp_status: v })} any="Any state" options={WHATSAPP_STATES.map((s) => [s, label(s)] as const)} />
        <FilterSelect id="filter-server" label="Server" value={query.server_id ?? ""} onChange={(v) => set({ server_id: v })} any="Any server" options={(servers.data?.data ?? []).map((s) => [s.id, s.name] as const)} />
      </div>
      {customers.isPending ? <Loading rows={5} /> : null}
      {customers.error ? <AdminErrorState error={customers.error} onRetry={() => customers.refetch()} /> : null}
      {customers.data && list.length === 0 ? <Empty title="No customers match">Change the search or the filters.</Empty> : null}
      {list.length > 0 ? (
        <TableCard caption="Customers" busy={customers.isPlaceholderData} columns={["Customer", "Plan", "Status", "WhatsApp", "Server", "Created"]}>
          {list.map((c) => (
            <tr key={c.id}>
              <Td className="max-w-64">
                <Link href={`/admin/customers/view?id=${c.id}`} className="block truncate font-medium text-primary hover:underline">
                  {c.email}
                </Link>
                <p className="truncate text-xs text-muted-foreground">{[c.full_name, c.company_name].filter(Boolean).join(" · ") || "—"}</p>
              </Td>
              <Td>{planName(c.plan)}</Td>
              <Td><StateBadge value={c.status} what="Status" /></Td>
              <Td><StateBadge value={c.whatsapp_status} what="WhatsApp" /></Td>
              <Td className="text-xs">{c.assigned_server_name ?? "None"}</Td>
              <Td className="text-xs whitespace-nowrap">{formatDateTime(c.created_at)}</Td>
            </tr>
          ))}
        </TableCard>
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
