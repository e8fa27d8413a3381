"use client";
import * as React from "react";
import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { useQueryClient } from "@tanstack/react-query";
import { ArrowLeft, Plus } from "lucide-react";
import { PageHeader } from "@/components/app-shell";
import { StateBadge } from "@/components/admin/badges";
import { ConfirmAction } from "@/components/admin/confirm";
import { CustomerActions } from "@/components/admin/customer-actions";
import { LogTable } from "@/components/admin/log-table";
import { FilterSelect } from "@/components/filter-select";
import { AdminErrorState, AdminFormError, Can, Pagination } from "@/components/admin/states";
import { UsageCharts } from "@/components/admin/usage-charts";
import { SecretOnce } from "@/components/copy-button";
import { Empty, Loading } from "@/components/states";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Dialog, DialogClose, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Input, Select } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs";
import { adminApi } from "@/lib/admin/api";
import { useAdminList, useAdminQuery } from "@/lib/admin/queries";
import type { AdminWebhook, ApiKey, AuditLog, CreatedKey, Customer, UsageReport } from "@/lib/admin/types";
import { formatDateTime, formatNumber } from "@/lib/format";
import { planName } from "@/lib/plans";
import { lastDays } from "@/lib/usage";

function Facts({ rows }: { rows: [string, React.ReactNode][] }) {
  return (
    <dl className="grid grid-cols-[minmax(0,auto)_minmax(0,1fr)] gap-x-4 gap-y-2 text-sm">
      {rows.map(([k, v]) => (
        <React.Fragment key={k}>
          <dt className="text-muted-foreground">{k}</dt>
          <dd className="min-w-0 break-words">{v}</dd>
        </React.Fragment>
      ))}
    </dl>
  );
}

function CreateKey({ customerId, onCreated }: { customerId: string; onCreated: () => void }) {
  const [open, setOpen] = React.useState(false);
  const [name, setName] = React.useState("");
  const [mode, setMode] = React.useState<"live" | "test">("test");
  const [created, setCreated] = React.useState<CreatedKey | null>(null);
  const [error, setError] = React.useState<unknown>(null);
  const [pending, setPending] = React.useState(false);
  const change = (next: boolean) => {
    setOpen(next);
    if (!next) {
      setCreated(null);
      setError(null);
      setName("");
    }
  };
  return (
    <>
      <Button size="sm" onClick={() => change(true)}>
        <Plus aria-hidden /> Create key
      </Button>
      <Dialog open={open} onOpenChange={change}>
        <DialogContent>
          <DialogHeader>
            <DialogTitle>{created ? "The new key" : "Create a key for this customer"}</DialogTitle>
            <DialogDescription>{created ? "Give it to the customer now: it is shown only this once." : "A key with every scope, in the mode you choose."}</DialogDescription>
          </DialogHeader>
          {created ? (
            <SecretOnce label={`${created.name ?? "Key"} (${created.mode})`} value={created.api_key} />
          ) : (
            <form
              id="admin-create-key"
              className="grid gap-4"
              onSubmit={async (e) => {
                e.preventDefault();
                setPending(true);
                setError(null);
                try {
                  setCreated(await adminApi.post<CreatedKey>(`/api/admin/customers/${customerId}/keys`, { name: name.trim() || undefined, mode }));
                  onCreated();
                } catch (err) {
                  setError(err);
                } finally {
                  setPending(false);
                }
              }}
            >
              <div className="grid gap-1.5">
                <Label htmlFor="admin-key-name">Name (optional)</Label>
                <Input id="admin-key-name" value={name} maxLength={100} onChange={(e) => setName(e.target.value)} />
              </div>
              <div className="grid gap-1.5">
                <Label htmlFor="admin-key-mode">Mode</Label>
                <Select id="admin-key-mode" value={mode} onChange={(e) => setMode(e.target.value as "live" | "test")}>
                  <option value="test">Test (the sandbox)</option>
                  <option value="live">Live (WhatsApp)</option>
                </Select>
              </div>
              <AdminFormError error={error} />
            </form>
          )}
          <DialogFooter>
            {created ? (
              <DialogClose asChild>
                <Button>Done</Button>
              </DialogClose>
            ) : (
              <>
                <DialogClose asChild>
                  <Button variant="outline">Cancel</Button>
                </DialogClose>
                <Button type="submit" form="admin-create-key" disabled={pending}>
                  {pending ? "Creating…" : "Create key"}
                </Button>
              </>
            )}
          </DialogFooter>
        </DialogContent>
      </Dialog>
    </>
  );
}

function Keys({ customer }: { customer: Customer }) {
  const qc = useQueryClient();
  const keys = useAdminQuery<ApiKey[]>(["customers", customer.id, "keys"], `/api/admin/customers/${customer.id}/keys`);
  const refresh = () => qc.invalidateQueries({ queryKey: ["admin", "customers", customer.id] });
  return (
    <Card>
      <CardHeader className="flex-row items-center justify-between">
        <div>
          <CardTitle>API keys</CardTitle>
          <CardDescription>Hints only: a key is shown once, when made.</CardDescription>
        </div>
        <Can>
          <CreateKey customerId={customer.id} onCreated={refresh} />
        </Can>
      </CardHeader>
      <CardContent>
        {keys.isPending ? <Loading rows={2} /> : null}
        {keys.error ? <AdminErrorState error={keys.error} onRetry={() => keys.refetch()} /> : null}
        {keys.data && keys.data.length === 0 ? <Empty title="No keys" /> : null}
        {keys.data && keys.data.length > 0 ? (
          <div className="relative overflow-x-auto">
            <table className="w-full text-sm">
              <caption className="sr-only">The customer&apos;s API keys</caption>
              <thead className="border-b text-left text-xs text-muted-foreground">
                <tr>
                  <th scope="col" className="py-2 pr-3 font-medium">Key</th>
                  <th scope="col" className="py-2 pr-3 font-medium">State</th>
                  <th scope="col" className="py-2 pr-3 font-medium">Last used</th>
                  <th scope="col" className="py-2 pr-3 font-medium">Requests</th>
                  <th scope="col" className="py-2 font-medium"><span className="sr-only">Actions</span></th>
                </tr>
              </thead>
              <tbody className="divide-y">
                {keys.data.map((k) => (
                  <tr key={k.id}>
                    <td className="py-2 pr-3">
                      <div className="flex items-center gap-2">
                        <code className="whitespace-nowrap text-xs">{k.key_hint}</code>
                        <Badge variant={k.mode === "live" ? "default" : "warning"}>{k.mode}</Badge>
                      </div>
                      <p className="text-xs text-muted-foreground">{k.name ?? "Unnamed"} · {k.scopes.join(", ")}</p>
                    </td>
                    <td className="py-2 pr-3"><StateBadge value={k.state === "active" ? "active" : k.state} what="Key" /></td>
                    <td className="py-2 pr-3 text-xs whitespace-nowrap">{k.last_used_at ? formatDateTime(k.last_used_at) : "Never"}</td>
                    <td className="py-2 pr-3 tabular-nums">{formatNumber(k.request_count)}</td>
                    <td className="py-2 text-right">
                      {k.state === "active" ? (
                        <Can>
                          <ConfirmAction
                            label="Revoke"
                            buttonProps={{ "aria-label": `Revoke ${k.key_hint}` }}
                            title={`Revoke ${k.key_hint}?`}
                            description="Applications using this key stop working at once. This cannot be undone."
                            confirmLabel="Revoke key"
                            destructive
                            onConfirm={() => adminApi.del(`/api/admin/customers/${customer.id}/keys/${k.id}`).then(refresh)}
                          />
                        </Can>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </CardContent>
    </Card>
  );
}

function Webhooks({ customerId }: { customerId: string }) {
  const hooks = useAdminQuery<AdminWebhook[]>(["customers", customerId, "webhooks"], `/api/admin/customers/${customerId}/webhooks`, { refetchInterval: 30_000 });
  return (
    <Card>
      <CardHeader>
        <CardTitle>Webhooks</CardTitle>
        <CardDescription>Endpoints and their delivery health. The customer manages them from the dashboard.</CardDescription>
      </CardHeader>
      <CardContent>
        {hooks.isPending ? <Loading rows={2} /> : null}
        {hooks.error ? <AdminErrorState error={hooks.error} onRetry={() => hooks.refetch()} /> : null}
        {hooks.data && hooks.data.length === 0 ? <Empty title="No webhooks" /> : null}
        <ul className="divide-y">
          {hooks.data?.map((w) => {
            const total = w.success_count + w.failure_count;
            const rate = total ? Math.round((w.success_count / total) * 100) : null;
            return (
              <li key={w.id} className="grid gap-1 py-3 text-sm">
                <div className="flex flex-wrap items-center gap-2">
                  <code className="min-w-0 break-all text-xs">{w.url}</code>
                  <Badge variant={w.mode === "live" ? "default" : "warning"}>{w.mode}</Badge>
                  <StateBadge value={w.is_active ? "active" : "inactive"} what="Webhook" />
                </div>
                {w.disabled_reason ? <p className="text-xs text-destructive">Disabled: {w.disabled_reason}</p> : null}
                <p className="text-xs text-muted-foreground">
                  {formatNumber(w.success_count)} delivered, {formatNumber(w.failure_count)} failed attempts{rate !== null ? ` (${rate} % success)` : ""} ·{" "}
                  {formatNumber(w.pending_deliveries)} waiting · {formatNumber(w.failed_deliveries)} given up · last {w.last_triggered_at ? formatDateTime(w.last_triggered_at) : "never"}
                </p>
                <p className="text-xs text-muted-foreground">Events: {w.events.join(", ")}</p>
              </li>
            );
          })}
        </ul>
      </CardContent>
    </Card>
  );
}

const TRAIL_KINDS = [
  ["", "Everything"],
  ["admin_action", "Operator actions on it"],
  ["api_call", "Its API calls"],
  ["auth_event", "Its sign-ins"],
] as const;

/** Every log row about the customer (GET /api/admin/logs?customer_id=): as the actor or the resource. */
function Trail({ id }: { id: string }) {
  const [page, setPage] = React.useState(1);
  const [kind, setKind] = React.useState("");
  const query = { customer_id: id, event_type: kind || undefined };
  const logs = useAdminList<AuditLog>(["logs", "customer", id], "/api/admin/logs", { query: { ...query, page, per_page: 10 }, refetchInterval: 15_000, placeholderData: (prev) => prev });
  const logsHref = `/admin/logs?${new URLSearchParams({ customer_id: id, ...(kind ? { event_type: kind } : {}) }).toString()}`;
  return (
    <section className="grid grid-cols-[minmax(0,1fr)] gap-3" aria-label="Audit trail">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <FilterSelect
          id="trail-kind"
          label="Show"
          className="w-56"
          value={kind}
          onChange={(v) => {
            setKind(v);
            setPage(1);
          }}
          options={TRAIL_KINDS}
        />
        <Link href={logsHref} className="text-sm text-primary hover:underline">
          See all in the log viewer
        </Link>
      </div>
      <p className="text-xs text-muted-foreground">The customer&apos;s API calls (with key, status and request id) and sign-ins, and every operator action on it: creation, plan and status changes, moves, keys.</p>
      {logs.isPending ? <Loading rows={2} /> : null}
      {logs.error ? <AdminErrorState error={logs.error} onRetry={() => logs.refetch()} /> : null}
      {logs.data && logs.data.data.length === 0 ? <Empty title="Nothing recorded yet" /> : null}
      {logs.data && logs.data.data.length > 0 ? (
        <div aria-busy={logs.isPlaceholderData} className={logs.isPlaceholderData ? "opacity-60 transition-opacity" : undefined}>
          <LogTable rows={logs.data.data} caption="Audit trail" />
        </div>
      ) : null}
      {logs.data?.meta && logs.data.meta.total > 10 ? <Pagination label="rows" page={page} perPage={10} total={logs.data.meta.total} onPage={setPage} /> : null}
    </section>
  );
}

function CustomerView({ id }: { id: string }) {
  /** Deleted or erased: its queries stop (they would answer 404) while the list opens. */
  const [gone, setGone] = React.useState(false);
  const customer = useAdminQuery<Customer>(["customers", id], gone ? null : `/api/admin/customers/${id}`, { refetchInterval: 30_000 });
  const [range, setRange] = React.useState(30);
  const { from, to } = lastDays(range);
  const usage = useAdminQuery<UsageReport>(["customers", id, "usage", range], `/api/admin/customers/${id}/usage`, { query: { from, to }, refetchInterval: 30_000 });

  if (customer.isPending || gone) return <Loading rows={4} />;
  if (customer.error) return <AdminErrorState error={customer.error} onRetry={() => customer.refetch()} title="This customer could not be loaded" />;
  const c = customer.data;
  return (
    <>
      <Link href="/admin/customers" className="mb-3 inline-flex items-center gap-1 text-sm text-muted-foreground hover:text-foreground">
        <ArrowLeft className="h-4 w-4" aria-hidden /> Customers
      </Link>
      <PageHeader
        title={c.full_name || c.email}
        description={
          <span className="flex flex-wrap items-center gap-2">
            <Badge variant="outline" data-testid="customer-plan">
              {planName(c.plan)} plan
            </Badge>
            <StateBadge value={c.status} what="Status" />
            <StateBadge value={c.whatsapp_status} what="WhatsApp" />
          </span>
        }
      />
      <Can>
        <div className="-mt-3 mb-6 flex flex-wrap gap-2" role="group" aria-label="Customer actions">
          <CustomerActions customer={c} onGone={() => setGone(true)} />
        </div>
      </Can>
      <Tabs defaultValue="overview">
        <TabsList>
          <TabsTrigger value="overview">Overview</TabsTrigger>
          <TabsTrigger value="usage">Usage</TabsTrigger>
          <TabsTrigger value="keys">Keys &amp; webhooks</TabsTrigger>
          <TabsTrigger value="audit">Audit trail</TabsTrigger>
        </TabsList>
        <TabsContent value="overview">
          <Card>
            <CardContent className="pt-5">
              <Facts
                rows={[
                  ["E-mail", c.email],
                  ["Name", c.full_name ?? "—"],
                  ["Company", c.company_name ?? "—"],
                  ["Plan", planName(c.plan)],
                  ["Status", <StateBadge key="s" value={c.status} />],
                  ["WhatsApp", <span key="w" className="flex flex-wrap items-center gap-2"><StateBadge value={c.whatsapp_status} />{c.phone_number ? <span>{c.phone_number}</span> : null}</span>],
                  ["Server", c.assigned_server_id ? <Link key="srv" href={`/admin/servers/view?id=${c.assigned_server_id}`} className="text-primary hover:underline">{c.assigned_server_name ?? c.assigned_server_id}</Link> : "None"],
                  ["Active keys", formatNumber(c.active_keys)],
                  ["Time zone", c.timezone],
                  ["Language", c.language],
                  ["Temporary password", c.password_must_change ? "Not changed yet" : "Changed"],
                  ["Created", formatDateTime(c.created_at)],
                  ["Last sign-in", c.last_login_at ? formatDateTime(c.last_login_at) : "Never"],
                  ["Id", <code key="id" className="break-all text-xs">{c.id}</code>],
                ]}
              />
            </CardContent>
          </Card>
        </TabsContent>
        <TabsContent value="usage" className="grid grid-cols-[minmax(0,1fr)] gap-3">
          <div className="grid w-40 gap-1">
            <label htmlFor="usage-range" className="text-xs font-medium">
              Period
            </label>
            <Select id="usage-range" value={range} onChange={(e) => setRange(Number(e.target.value))}>
              <option value={7}>Last 7 days</option>
              <option value={30}>Last 30 days</option>
              <option value={90}>Last 90 days</option>
            </Select>
          </div>
          {usage.isPending ? <Loading rows={3} /> : null}
          {usage.error ? <AdminErrorState error={usage.error} onRetry={() => usage.refetch()} /> : null}
          {usage.data ? <UsageCharts report={usage.data} /> : null}
        </TabsContent>
        <TabsContent value="keys" className="grid grid-cols-[minmax(0,1fr)] gap-4">
          <Keys customer={c} />
          <Webhooks customerId={id} />
        </TabsContent>
        <TabsContent value="audit">
          <Trail id={id} />
        </TabsContent>
      </Tabs>
    </>
  );
}

function CustomerPage() {
  const id = useSearchParams().get("id");
  if (!id) return <Empty title="No customer chosen">Open a customer from the list.</Empty>;
  return <CustomerView id={id} />;
}

export default function CustomerViewPage() {
  return (
    <React.Suspense>
      <CustomerPage />
    </React.Suspense>
  );
}
