"use client";
import * as React from "react";
import Link from "next/link";
import { useQueryClient } from "@tanstack/react-query";
import { Controller, useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import type { z } from "zod";
import { Plus } from "lucide-react";
import { PageHeader } from "@/components/app-shell";
import { SecretOnce } from "@/components/copy-button";
import { EventsPicker } from "@/components/events-picker";
import { Field, fieldProps } from "@/components/field";
import { Empty, ErrorState, FormError, Loading } from "@/components/states";
import { Badge } from "@/components/ui/badge";
import { Button, buttonVariants } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { Dialog, DialogClose, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Input } from "@/components/ui/input";
import { api } from "@/lib/api/provider";
import { fieldError } from "@/lib/api/errors";
import type { CreatedWebhook, Webhook } from "@/lib/api/types";
import { formatDateTime, formatNumber } from "@/lib/format";
import { useMode } from "@/lib/mode";
import { useModeQuery } from "@/lib/queries";
import { webhookSchema } from "@/lib/schemas";

type Values = z.infer<typeof webhookSchema>;

function AddEndpoint({ onCreated }: { onCreated: () => void }) {
  const { mode } = useMode();
  const [open, setOpen] = React.useState(false);
  const [created, setCreated] = React.useState<CreatedWebhook | null>(null);
  const [error, setError] = React.useState<unknown>(null);
  const form = useForm<Values>({ resolver: zodResolver(webhookSchema), defaultValues: { url: "", description: "", events: ["*"] } });
  const e = form.formState.errors;
  const onOpenChange = (next: boolean) => {
    setOpen(next);
    if (!next) {
      setCreated(null);
      setError(null);
      form.reset();
    }
  };
  const onSubmit = form.handleSubmit(async (v) => {
    setError(null);
    try {
      const hook = await api.post<CreatedWebhook>("/api/v1/webhooks", {
        url: v.url,
        events: v.events,
        ...(v.description ? { description: v.description } : {}),
      });
      setCreated(hook);
      onCreated();
    } catch (err) {
      setError(err);
    }
  });
  const urlError = e.url?.message ?? fieldError(error, "url");
  const eventsError = e.events?.message ?? fieldError(error, "events");
  return (
    <>
      <Button onClick={() => onOpenChange(true)}>
        <Plus aria-hidden /> Add endpoint
      </Button>
      <Dialog open={open} onOpenChange={onOpenChange}>
        <DialogContent className="max-w-xl">
          <DialogHeader>
            <DialogTitle>{created ? "Endpoint added" : "Add an endpoint"}</DialogTitle>
            <DialogDescription>
              {created
                ? "Verify each delivery's signature with this secret."
                : `It receives the ${mode === "test" ? "test (sandbox)" : "live"} session's events, signed, retried on failure.`}
            </DialogDescription>
          </DialogHeader>
          {created ? (
            <div className="grid gap-4">
              <SecretOnce label="Signing secret" value={created.secret} />
              <DialogFooter>
                <Link href={`/webhooks/view?id=${created.id}`} className={buttonVariants({ variant: "outline" })}>
                  Open the endpoint
                </Link>
                <DialogClose asChild>
                  <Button>Done</Button>
                </DialogClose>
              </DialogFooter>
            </div>
          ) : (
            <form onSubmit={onSubmit} noValidate className="grid gap-4">
              <Field id="hook-url" label="Endpoint URL" hint="An https address of your server that answers 2xx." error={urlError}>
                <Input {...fieldProps("hook-url", urlError, true)} type="url" placeholder="https://example.com/wasp" {...form.register("url")} />
              </Field>
              <Field id="hook-description" label="Description (optional)" error={e.description?.message}>
                <Input {...fieldProps("hook-description", e.description?.message)} {...form.register("description")} />
              </Field>
              <Controller control={form.control} name="events" render={({ field }) => <EventsPicker value={field.value} onChange={field.onChange} error={eventsError} />} />
              <FormError error={error && !urlError && !eventsError ? error : null} />
              <DialogFooter>
                <DialogClose asChild>
                  <Button variant="outline">Cancel</Button>
                </DialogClose>
                <Button type="submit" disabled={form.formState.isSubmitting}>
                  {form.formState.isSubmitting ? "Adding…" : "Add endpoint"}
                </Button>
              </DialogFooter>
            </form>
          )}
        </DialogContent>
      </Dialog>
    </>
  );
}

export default function WebhooksPage() {
  const { mode } = useMode();
  const qc = useQueryClient();
  const hooks = useModeQuery<Webhook[]>(["webhooks"], "/api/v1/webhooks");
  const list = hooks.data ?? [];
  return (
    <>
      <PageHeader
        title="Webhooks"
        description={`Endpoints that receive the ${mode === "test" ? "test" : "live"} session's events. Up to 10 per session.`}
        actions={<AddEndpoint onCreated={() => qc.invalidateQueries({ queryKey: [mode, "webhooks"] })} />}
      />
      {hooks.isPending ? <Loading rows={3} /> : null}
      {hooks.error ? <ErrorState error={hooks.error} onRetry={() => hooks.refetch()} /> : null}
      {hooks.data && list.length === 0 ? (
        <Empty title="No endpoints yet">Add an endpoint to be told about messages, receipts and session changes as they happen.</Empty>
      ) : null}
      {list.length > 0 ? (
        <Card>
          <ul className="divide-y" aria-label="Endpoints">
            {list.map((h) => (
              <li key={h.id}>
                <Link href={`/webhooks/view?id=${h.id}`} className="flex flex-col gap-1 px-4 py-3 hover:bg-accent/50 sm:flex-row sm:items-center sm:justify-between">
                  <div className="min-w-0">
                    <p className="truncate font-mono text-sm">{h.url}</p>
                    <p className="truncate text-xs text-muted-foreground">
                      {h.description ? `${h.description} · ` : ""}
                      {h.events.join(", ")}
                    </p>
                  </div>
                  <div className="flex shrink-0 items-center gap-3 text-xs text-muted-foreground">
                    <span>{formatNumber(h.success_count)} delivered</span>
                    <span>{formatNumber(h.failure_count)} failed</span>
                    <span>{h.last_triggered_at ? `last ${formatDateTime(h.last_triggered_at)}` : "never triggered"}</span>
                    {h.is_active ? <Badge>Active</Badge> : <Badge variant="destructive">Disabled</Badge>}
                  </div>
                </Link>
              </li>
            ))}
          </ul>
        </Card>
      ) : null}
    </>
  );
}
