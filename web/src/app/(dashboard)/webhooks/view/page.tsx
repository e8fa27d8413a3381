"use client";
import * as React from "react";
import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { ArrowLeft, ChevronDown, ChevronRight } from "lucide-react";
import { CopyButton, SecretOnce } from "@/components/copy-button";
import { EventsPicker } from "@/components/events-picker";
import { Field, fieldProps } from "@/components/field";
import { Empty, ErrorState, FormError, Loading } from "@/components/states";
import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Dialog, DialogClose, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Input, Select } from "@/components/ui/input";
import { Switch } from "@/components/ui/switch";
import { api } from "@/lib/api/provider";
import { fieldError } from "@/lib/api/errors";
import type { Delivery, Webhook } from "@/lib/api/types";
import { formatDateTime, formatNumber } from "@/lib/format";
import { useMode } from "@/lib/mode";
import { useModeQuery } from "@/lib/queries";
import { httpUrl } from "@/lib/schemas";

/** A JSON text indented for reading (as it is when it does not parse). */
function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

function DeliveryRow({ d, hookId, onReplayed }: { d: Delivery; hookId: string; onReplayed: () => void }) {
  const [open, setOpen] = React.useState(false);
  const replay = useMutation({
    mutationFn: () => api.post(`/api/v1/webhooks/${hookId}/replay`, { delivery_id: d.id }),
    onSuccess: onReplayed,
  });
  const variant = d.state === "delivered" ? "default" : d.state === "failed" ? "destructive" : "warning";
  return (
    <li className="px-4 py-3">
      <div className="flex flex-wrap items-center gap-2">
        <button
          type="button"
          className="flex min-w-0 flex-1 items-center gap-2 text-left focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring rounded"
          aria-expanded={open}
          onClick={() => setOpen(!open)}
        >
          {open ? <ChevronDown className="h-4 w-4 shrink-0" aria-hidden /> : <ChevronRight className="h-4 w-4 shrink-0" aria-hidden />}
          <span className="font-mono text-sm">{d.event_type}</span>
          <Badge variant={variant}>{d.state}</Badge>
          <span className="text-xs text-muted-foreground">
            {d.last_status_code ? `HTTP ${d.last_status_code}` : d.last_error ? "no answer" : ""} · {d.attempts} attempt{d.attempts === 1 ? "" : "s"} ·{" "}
            {formatDateTime(d.created_at)}
          </span>
        </button>
        <Button variant="outline" size="sm" onClick={() => replay.mutate()} disabled={replay.isPending} aria-label={`Replay ${d.event_type} ${d.event_id}`}>
          {replay.isSuccess ? "Queued" : "Replay"}
        </Button>
      </div>
      <FormError error={replay.error} />
      {open ? (
        <div className="mt-3 grid gap-3 pl-6 text-sm">
          <div className="grid gap-2">
            <p className="text-xs font-medium text-muted-foreground">Request</p>
            <p>
              <code className="text-xs">POST</code> event <code className="text-xs">{d.event_id}</code> ({d.event_type}), signed with headers{" "}
              <code className="text-xs">webhook-signature</code> and <code className="text-xs">x-hub-signature-256</code> (not kept in the log).
            </p>
            <details className="group rounded border">
              <summary className="cursor-pointer select-none px-3 py-2 text-xs font-medium focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring rounded">
                Request body
              </summary>
              <div className="grid gap-2 border-t p-3">
                <pre
                  aria-label="Request body"
                  className="max-h-72 overflow-auto whitespace-pre-wrap break-all rounded bg-muted p-2 font-mono text-xs"
                >
                  {prettyJson(d.request_body)}
                </pre>
                <p className="flex flex-wrap items-center gap-2 text-xs text-muted-foreground">
                  Shown indented; the bytes sent, and signed, are compact.
                  <CopyButton text={d.request_body} label="Copy the exact body" />
                </p>
              </div>
            </details>
            {d.next_attempt_at && d.state === "pending" ? <p className="text-xs text-muted-foreground">Next attempt {formatDateTime(d.next_attempt_at)}</p> : null}
          </div>
          {d.log.length === 0 ? <p className="text-muted-foreground">No attempt yet.</p> : null}
          {d.log.map((a) => (
            <div key={a.attempt} className="rounded border p-3">
              <p className="text-xs text-muted-foreground">
                Attempt {a.attempt} · {formatDateTime(a.attempted_at)} · {formatNumber(a.latency_ms)} ms
              </p>
              {a.request_headers ? (
                <details className="mt-1">
                  <summary className="cursor-pointer select-none text-xs font-medium focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring rounded">
                    Request headers
                  </summary>
                  <pre className="mt-1 overflow-auto whitespace-pre-wrap break-all rounded bg-muted p-2 font-mono text-xs">
                    {Object.entries(a.request_headers)
                      .map(([name, value]) => `${name}: ${value}`)
                      .join("\n")}
                  </pre>
                </details>
              ) : null}
              <p className="font-medium">{a.status_code ? `Response: HTTP ${a.status_code}` : `No response: ${a.error ?? "unknown error"}`}</p>
              {a.response_body ? (
                <pre className="mt-2 max-h-48 overflow-auto whitespace-pre-wrap break-all rounded bg-muted p-2 font-mono text-xs">{a.response_body}</pre>
              ) : null}
            </div>
          ))}
        </div>
      ) : null}
    </li>
  );
}

function Edit({ hook, onSaved }: { hook: Webhook; onSaved: () => void }) {
  const [url, setUrl] = React.useState(hook.url);
  const [events, setEvents] = React.useState<string[]>(hook.events);
  const [description, setDescription] = React.useState(hook.description ?? "");
  const [local, setLocal] = React.useState<{ url?: string; events?: string }>({});
  const save = useMutation({
    mutationFn: () => api.patch(`/api/v1/webhooks/${hook.id}`, { url, events, description }),
    onSuccess: onSaved,
  });
  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    const problems = {
      url: httpUrl.safeParse(url).success ? undefined : "Enter an http or https URL",
      events: events.length ? undefined : "Choose at least one event",
    };
    setLocal(problems);
    if (!problems.url && !problems.events) save.mutate();
  };
  const urlError = local.url ?? fieldError(save.error, "url");
  return (
    <form onSubmit={submit} noValidate className="grid gap-4">
      <Field id="edit-url" label="Endpoint URL" error={urlError}>
        <Input {...fieldProps("edit-url", urlError)} type="url" value={url} onChange={(e) => setUrl(e.target.value)} />
      </Field>
      <Field id="edit-description" label="Description">
        <Input id="edit-description" value={description} onChange={(e) => setDescription(e.target.value)} />
      </Field>
      <EventsPicker value={events} onChange={setEvents} error={local.events ?? fieldError(save.error, "events")} />
      <FormError error={save.error && !urlError ? save.error : null} />
      {save.isSuccess ? (
        <p role="status" className="text-sm text-primary">
          Saved.
        </p>
      ) : null}
      <div>
        <Button type="submit" disabled={save.isPending}>
          Save changes
        </Button>
      </div>
    </form>
  );
}

function WebhookView() {
  const id = useSearchParams().get("id") ?? "";
  const router = useRouter();
  const { mode } = useMode();
  const qc = useQueryClient();
  const [stateFilter, setStateFilter] = React.useState("");
  const hook = useModeQuery<Webhook>(["webhook", id], id ? `/api/v1/webhooks/${encodeURIComponent(id)}` : null, { refetchInterval: 5_000 });
  const deliveries = useModeQuery<Delivery[]>(["webhook", id, "deliveries"], id ? `/api/v1/webhooks/${encodeURIComponent(id)}/deliveries` : null, {
    query: { state: stateFilter || undefined, limit: 50 },
    refetchInterval: 3_000,
  });
  const refresh = () => qc.invalidateQueries({ queryKey: [mode, "webhook", id] });
  const [secret, setSecret] = React.useState<string | null>(null);
  const rotate = useMutation({
    mutationFn: () => api.post<{ secret: string }>(`/api/v1/webhooks/${id}/rotate-secret`),
    onSuccess: (r) => setSecret(r.secret),
  });
  const test = useMutation({ mutationFn: () => api.post<{ event_id: string }>(`/api/v1/webhooks/${id}/test`), onSuccess: refresh });
  const toggle = useMutation({
    mutationFn: (active: boolean) => api.patch(`/api/v1/webhooks/${id}`, { is_active: active }),
    onSuccess: refresh,
  });
  const [confirmDelete, setConfirmDelete] = React.useState(false);
  const remove = useMutation({
    mutationFn: () => api.del(`/api/v1/webhooks/${id}`),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: [mode, "webhooks"] });
      router.replace("/webhooks");
    },
  });

  if (!id) return <Empty title="No endpoint chosen" action={<Link href="/webhooks" className="text-primary hover:underline">See all endpoints</Link>} />;
  if (hook.isPending) return <Loading rows={5} />;
  if (hook.error) return <ErrorState error={hook.error} onRetry={() => hook.refetch()} />;
  const h = hook.data;
  return (
    <div className="grid gap-4">
      <div className="flex items-center gap-2">
        <Link href="/webhooks" className="rounded p-1 hover:bg-accent" aria-label="Back to webhooks">
          <ArrowLeft className="h-4 w-4" aria-hidden />
        </Link>
        <h1 className="min-w-0 flex-1 truncate font-mono text-lg font-semibold">{h.url}</h1>
        {h.is_active ? <Badge>Active</Badge> : <Badge variant="destructive">Disabled</Badge>}
      </div>
      {h.disabled_reason ? <Alert variant="warning">Disabled: {h.disabled_reason}. Re-activate it once your endpoint works again.</Alert> : null}
      <div className="grid grid-cols-[minmax(0,1fr)] gap-4 lg:grid-cols-2">
        <Card>
          <CardHeader>
            <CardTitle>Endpoint</CardTitle>
            <CardDescription>
              {formatNumber(h.success_count)} delivered · {formatNumber(h.failure_count)} failed · {h.mode} session
            </CardDescription>
          </CardHeader>
          <CardContent className="grid gap-4">
            <div className="flex items-center gap-2">
              <Switch id="hook-active" checked={h.is_active} disabled={toggle.isPending} onCheckedChange={(v) => toggle.mutate(v)} />
              <label htmlFor="hook-active" className="text-sm">
                Deliver events to this endpoint
              </label>
            </div>
            <FormError error={toggle.error} />
            <Edit key={h.updated_at} hook={h} onSaved={refresh} />
          </CardContent>
        </Card>
        <Card>
          <CardHeader>
            <CardTitle>Signing secret and tests</CardTitle>
            <CardDescription>The secret was shown when the endpoint was added. Rotating keeps the old one valid for 24 hours.</CardDescription>
          </CardHeader>
          <CardContent className="grid gap-4">
            {secret ? <SecretOnce label="New signing secret" value={secret} /> : null}
            {h.previous_secret_expires_at ? (
              <p className="text-xs text-muted-foreground">The previous secret keeps signing until {formatDateTime(h.previous_secret_expires_at)}.</p>
            ) : null}
            <FormError error={rotate.error ?? test.error} />
            {test.isSuccess ? (
              <p role="status" className="text-sm text-primary">
                Test event sent; it appears in the log below.
              </p>
            ) : null}
            <div className="flex flex-wrap gap-2">
              <Button onClick={() => test.mutate()} disabled={test.isPending}>
                Send test event
              </Button>
              <Button variant="outline" onClick={() => rotate.mutate()} disabled={rotate.isPending}>
                Rotate secret
              </Button>
              <Button variant="destructive" onClick={() => setConfirmDelete(true)}>
                Delete endpoint
              </Button>
            </div>
          </CardContent>
        </Card>
      </div>
      <Card>
        <CardHeader className="flex-row flex-wrap items-end justify-between gap-2">
          <div>
            <CardTitle>Delivery log</CardTitle>
            <CardDescription>Newest first; each attempt with its answer.</CardDescription>
          </div>
          <div className="grid gap-1">
            <label htmlFor="delivery-state" className="text-xs font-medium">
              Show
            </label>
            <Select id="delivery-state" value={stateFilter} onChange={(e) => setStateFilter(e.target.value)} className="w-40">
              <option value="">All deliveries</option>
              <option value="delivered">Delivered</option>
              <option value="pending">Pending</option>
              <option value="failed">Failed</option>
            </Select>
          </div>
        </CardHeader>
        <CardContent className="p-0">
          {deliveries.isPending ? (
            <div className="p-4">
              <Loading rows={3} />
            </div>
          ) : null}
          {deliveries.error ? (
            <div className="p-4">
              <ErrorState error={deliveries.error} onRetry={() => deliveries.refetch()} />
            </div>
          ) : null}
          {deliveries.data && deliveries.data.length === 0 ? (
            <div className="p-4">
              <Empty title="No deliveries yet">Send a test event, or wait for the session&apos;s next event.</Empty>
            </div>
          ) : null}
          {deliveries.data && deliveries.data.length > 0 ? (
            <ul className="divide-y border-t" aria-label="Deliveries">
              {deliveries.data.map((d) => (
                <DeliveryRow key={d.id} d={d} hookId={id} onReplayed={refresh} />
              ))}
            </ul>
          ) : null}
        </CardContent>
      </Card>
      <Dialog open={confirmDelete} onOpenChange={setConfirmDelete}>
        <DialogContent>
          <DialogHeader>
            <DialogTitle>Delete this endpoint?</DialogTitle>
            <DialogDescription>It stops receiving events, and its delivery log is deleted.</DialogDescription>
          </DialogHeader>
          <FormError error={remove.error} />
          <DialogFooter>
            <DialogClose asChild>
              <Button variant="outline">Cancel</Button>
            </DialogClose>
            <Button variant="destructive" disabled={remove.isPending} onClick={() => remove.mutate()}>
              Delete endpoint
            </Button>
          </DialogFooter>
        </DialogContent>
      </Dialog>
    </div>
  );
}

export default function WebhookViewPage() {
  return (
    <React.Suspense fallback={<Loading rows={5} />}>
      <WebhookView />
    </React.Suspense>
  );
}
