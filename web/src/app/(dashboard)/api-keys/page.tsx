"use client";
import * as React from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Controller, useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import type { z } from "zod";
import { Plus } from "lucide-react";
import { PageHeader } from "@/components/app-shell";
import { SecretOnce } from "@/components/copy-button";
import { Field, fieldProps } from "@/components/field";
import { Empty, ErrorState, FormError, Loading } from "@/components/states";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Dialog, DialogClose, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Input } from "@/components/ui/input";
import { TableCard, Td } from "@/components/ui/table";
import { api } from "@/lib/api/provider";
import { fieldError } from "@/lib/api/errors";
import type { ApiKey, CreatedKey } from "@/lib/api/types";
import { formatDateTime, formatNumber } from "@/lib/format";
import { useMode } from "@/lib/mode";
import { useModeQuery } from "@/lib/queries";
import { SCOPES, createKeySchema } from "@/lib/schemas";

type Values = z.infer<typeof createKeySchema>;

const SCOPE_TEXT: Record<string, string> = {
  "*": "Everything",
  "messages:send": "Send messages",
  "messages:read": "Read messages and the event stream",
  "chats:read": "Read chats and users",
  "groups:manage": "Manage groups",
  "session:manage": "Connect and disconnect the session",
  "webhooks:manage": "Manage webhooks",
  "keys:manage": "Manage API keys",
  "usage:read": "Read usage",
};

function CreateKey({ onCreated }: { onCreated: () => void }) {
  const { mode } = useMode();
  const [open, setOpen] = React.useState(false);
  const [created, setCreated] = React.useState<CreatedKey | null>(null);
  const [error, setError] = React.useState<unknown>(null);
  const form = useForm<Values>({ resolver: zodResolver(createKeySchema), defaultValues: { name: "", mode, scopes: ["*"] } });
  const e = form.formState.errors;

  const reset = (next: boolean) => {
    setOpen(next);
    if (!next) {
      setCreated(null);
      setError(null);
      form.reset({ name: "", mode, scopes: ["*"] });
    }
  };
  const onSubmit = form.handleSubmit(async (v) => {
    setError(null);
    try {
      const key = await api.post<CreatedKey>("/api/v1/keys", { name: v.name, mode: v.mode, scopes: v.scopes });
      setCreated(key);
      onCreated();
    } catch (err) {
      setError(err);
    }
  });
  const nameError = e.name?.message ?? fieldError(error, "name");
  const scopesError = e.scopes?.message ?? fieldError(error, "scopes");
  return (
    <>
      <Button onClick={() => reset(true)}>
        <Plus aria-hidden /> Create key
      </Button>
      <Dialog open={open} onOpenChange={reset}>
        <DialogContent>
          <DialogHeader>
            <DialogTitle>{created ? "Your new API key" : "Create an API key"}</DialogTitle>
            <DialogDescription>
              {created ? "Copy it into your application's configuration." : "Keys authenticate your application's calls (X-API-Key header)."}
            </DialogDescription>
          </DialogHeader>
          {created ? (
            <div className="grid gap-4">
              <SecretOnce label={`${created.name ?? "Key"} (${created.mode})`} value={created.api_key} />
              <DialogFooter>
                <DialogClose asChild>
                  <Button>Done</Button>
                </DialogClose>
              </DialogFooter>
            </div>
          ) : (
            <form onSubmit={onSubmit} noValidate className="grid gap-4">
              <Field id="key-name" label="Name" hint="What uses it: CI, production server…" error={nameError}>
                <Input {...fieldProps("key-name", nameError, true)} {...form.register("name")} />
              </Field>
              <fieldset className="grid gap-2">
                <legend className="mb-1 text-sm font-medium">Mode</legend>
                <label className="flex items-center gap-2 text-sm">
                  <input type="radio" value="test" {...form.register("mode")} /> Test: the sandbox session (<code>ak_test_…</code>)
                </label>
                <label className="flex items-center gap-2 text-sm">
                  <input type="radio" value="live" {...form.register("mode")} /> Live: your WhatsApp number (<code>ak_live_…</code>)
                </label>
              </fieldset>
              <Controller
                control={form.control}
                name="scopes"
                render={({ field }) => (
                  <fieldset className="grid gap-2" aria-describedby={scopesError ? "scopes-error" : undefined}>
                    <legend className="mb-1 text-sm font-medium">Scopes</legend>
                    <div className="grid gap-1.5 sm:grid-cols-2">
                      {SCOPES.map((s) => (
                        <label key={s} className="flex items-start gap-2 text-sm">
                          <input
                            type="checkbox"
                            className="mt-0.5"
                            checked={field.value.includes(s)}
                            onChange={(ev) =>
                              field.onChange(ev.target.checked ? [...field.value.filter((x) => (s === "*" ? false : x !== "*")), s] : field.value.filter((x) => x !== s))
                            }
                          />
                          <span>
                            {SCOPE_TEXT[s]} <code className="text-xs text-muted-foreground">{s}</code>
                          </span>
                        </label>
                      ))}
                    </div>
                    {scopesError ? (
                      <p id="scopes-error" className="text-xs font-medium text-destructive">
                        {scopesError}
                      </p>
                    ) : null}
                  </fieldset>
                )}
              />
              <FormError error={error && !nameError && !scopesError ? error : null} />
              <DialogFooter>
                <DialogClose asChild>
                  <Button variant="outline">Cancel</Button>
                </DialogClose>
                <Button type="submit" disabled={form.formState.isSubmitting}>
                  {form.formState.isSubmitting ? "Creating…" : "Create key"}
                </Button>
              </DialogFooter>
            </form>
          )}
        </DialogContent>
      </Dialog>
    </>
  );
}

function RevokeKey({ apiKey, onRevoked }: { apiKey: ApiKey; onRevoked: () => void }) {
  const [open, setOpen] = React.useState(false);
  const revoke = useMutation({
    mutationFn: () => api.del(`/api/v1/keys/${apiKey.id}`, { mode: apiKey.mode === "live" ? "live" : "test" }),
    onSuccess: () => {
      setOpen(false);
      onRevoked();
    },
  });
  const label = apiKey.name ?? apiKey.key_hint;
  return (
    <>
      <Button variant="outline" size="sm" onClick={() => setOpen(true)} aria-label={`Revoke ${label}`}>
        Revoke
      </Button>
      <Dialog open={open} onOpenChange={setOpen}>
        <DialogContent>
          <DialogHeader>
            <DialogTitle>Revoke “{label}”?</DialogTitle>
            <DialogDescription>Applications using this key stop working at once. This cannot be undone.</DialogDescription>
          </DialogHeader>
          <FormError error={revoke.error} />
          <DialogFooter>
            <DialogClose asChild>
              <Button variant="outline">Cancel</Button>
            </DialogClose>
            <Button variant="destructive" disabled={revoke.isPending} onClick={() => revoke.mutate()}>
              Revoke key
            </Button>
          </DialogFooter>
        </DialogContent>
      </Dialog>
    </>
  );
}

export default function ApiKeysPage() {
  const { mode } = useMode();
  const qc = useQueryClient();
  const keys = useModeQuery<ApiKey[]>(["keys"], "/api/v1/keys");
  const refresh = () => qc.invalidateQueries({ queryKey: [mode, "keys"] });
  const list = keys.data ?? [];
  return (
    <>
      <PageHeader
        title="API keys"
        description="Send a key as the X-API-Key header. Test keys reach the sandbox; live keys your WhatsApp number."
        actions={<CreateKey onCreated={refresh} />}
      />
      {keys.isPending ? <Loading rows={3} /> : null}
      {keys.error ? <ErrorState error={keys.error} onRetry={() => keys.refetch()} /> : null}
      {keys.data && list.length === 0 ? <Empty title="No API keys yet">Create a key to call the API from your application.</Empty> : null}
      {list.length > 0 ? (
        <TableCard caption="Your API keys" columns={["Name", "Key", "Scopes", "Last used", "Requests", { label: "Actions", srOnly: true }]}>
          {list.map((k) => (
            <tr key={k.id}>
              <Td>
                <div className="flex items-center gap-2">
                  <span className="font-medium">{k.name ?? "Unnamed"}</span>
                  <Badge variant={k.mode === "live" ? "default" : "warning"}>{k.mode}</Badge>
                  {k.state !== "active" ? <Badge variant="destructive">{k.state}</Badge> : null}
                </div>
                <p className="text-xs text-muted-foreground">Created {formatDateTime(k.created_at)}</p>
              </Td>
              <Td className="font-mono text-xs">{k.key_hint}</Td>
              <Td className="text-xs">{k.scopes.join(", ")}</Td>
              <Td className="text-xs">{k.last_used_at ? formatDateTime(k.last_used_at) : "Never"}</Td>
              <Td className="tabular-nums">{formatNumber(k.request_count)}</Td>
              <Td className="text-right">{k.state === "active" ? <RevokeKey apiKey={k} onRevoked={refresh} /> : null}</Td>
            </tr>
          ))}
        </TableCard>
      ) : null}
    </>
  );
}
