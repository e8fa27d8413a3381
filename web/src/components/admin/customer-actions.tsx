"use client";
import * as React from "react";
import { useRouter } from "next/navigation";
import { useQueryClient } from "@tanstack/react-query";
import { SecretOnce } from "@/components/copy-button";
import { Button } from "@/components/ui/button";
import { Dialog, DialogClose, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Select } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { adminApi } from "@/lib/admin/api";
import { useAdminList } from "@/lib/admin/queries";
import { PLANS } from "@/lib/admin/schemas";
import type { CreatedKey, Customer, Server } from "@/lib/admin/types";
import { formatNumber } from "@/lib/format";
import { planLimits, planName } from "@/lib/plans";
import { ConfirmAction } from "./confirm";
import { AdminFormError } from "./states";

function limitsText(plan: string): string {
  const l = planLimits(plan);
  if (!l.messagesPerDay) return "no limits";
  return `${formatNumber(l.requestsPerMinute)} requests a minute, ${formatNumber(l.requestsPerDay)} a day, ${formatNumber(l.messagesPerDay)} messages a day`;
}

/** A dialog with a form inside, its own pending state and error. */
function ActionDialog({
  label,
  title,
  description,
  confirmLabel,
  children,
  onConfirm,
  disabled,
  done,
  onClose,
  keepOpen = false,
  variant = "outline",
}: {
  label: string;
  title: string;
  description: React.ReactNode;
  confirmLabel: string;
  children: React.ReactNode;
  onConfirm: () => Promise<void>;
  disabled?: boolean;
  done?: React.ReactNode;
  onClose?: () => void;
  /** Stays open after the action, to show its result (`done`). */
  keepOpen?: boolean;
  variant?: "outline" | "default";
}) {
  const [open, setOpen] = React.useState(false);
  const [pending, setPending] = React.useState(false);
  const [error, setError] = React.useState<unknown>(null);
  const change = (next: boolean) => {
    setOpen(next);
    if (!next) {
      setError(null);
      onClose?.();
    }
  };
  return (
    <>
      <Button variant={variant} size="sm" onClick={() => change(true)}>
        {label}
      </Button>
      <Dialog open={open} onOpenChange={change}>
        <DialogContent>
          <DialogHeader>
            <DialogTitle>{title}</DialogTitle>
            <DialogDescription>{description}</DialogDescription>
          </DialogHeader>
          {done ?? (
            <>
              {children}
              <AdminFormError error={error} />
            </>
          )}
          <DialogFooter>
            {done ? (
              <DialogClose asChild>
                <Button>Done</Button>
              </DialogClose>
            ) : (
              <>
                <DialogClose asChild>
                  <Button variant="outline">Cancel</Button>
                </DialogClose>
                <Button
                  disabled={pending || disabled}
                  onClick={async () => {
                    setPending(true);
                    setError(null);
                    try {
                      await onConfirm();
                      if (!keepOpen) change(false);
                    } catch (e) {
                      setError(e);
                    } finally {
                      setPending(false);
                    }
                  }}
                >
                  {pending ? "Working…" : confirmLabel}
                </Button>
              </>
            )}
          </DialogFooter>
        </DialogContent>
      </Dialog>
    </>
  );
}

function ChangePlan({ customer, onDone }: { customer: Customer; onDone: () => void }) {
  const [plan, setPlan] = React.useState(customer.plan);
  return (
    <ActionDialog
      label="Change plan"
      title={`Change ${customer.email}'s plan`}
      description={`Now ${planName(customer.plan)}: ${limitsText(customer.plan)}. The new plan's limits apply to the next request.`}
      confirmLabel={plan === customer.plan ? "Change plan" : `Change to ${planName(plan)}`}
      disabled={plan === customer.plan}
      onClose={() => setPlan(customer.plan)}
      onConfirm={async () => {
        await adminApi.put(`/api/admin/customers/${customer.id}`, { plan });
        onDone();
      }}
    >
      <div className="grid gap-1.5">
        <Label htmlFor="new-plan">New plan</Label>
        <Select id="new-plan" value={plan} onChange={(e) => setPlan(e.target.value)}>
          {PLANS.map((p) => (
            <option key={p} value={p}>
              {planName(p)}
            </option>
          ))}
        </Select>
        <p className="text-xs text-muted-foreground">
          {planName(plan)}: {limitsText(plan)}.
        </p>
      </div>
    </ActionDialog>
  );
}

function Reassign({ customer, onDone }: { customer: Customer; onDone: () => void }) {
  const [target, setTarget] = React.useState("auto");
  const [open, setOpen] = React.useState(false);
  const servers = useAdminList<Server>(["servers", "all"], open ? "/api/admin/servers" : null, { query: { per_page: 100 } });
  const name = target === "auto" ? "the least used healthy server" : (servers.data?.data.find((s) => s.id === target)?.name ?? "that server");
  return (
    <span onClickCapture={() => setOpen(true)}>
      <ActionDialog
        label="Reassign"
        title={`Move ${customer.email} to another server`}
        description={`Now on ${customer.assigned_server_name ?? "no server"}. The old worker releases the WhatsApp sessions and the new one takes them over with their chats; a logged-in session reconnects without a new login. Older media files stay behind on the old worker.`}
        confirmLabel={`Move to ${target === "auto" ? "the best server" : name}`}
        onConfirm={async () => {
          await adminApi.post(`/api/admin/customers/${customer.id}/reassign`, { server_id: target });
          onDone();
        }}
      >
        <div className="grid gap-1.5">
          <Label htmlFor="reassign-target">Target server</Label>
          <Select id="reassign-target" value={target} onChange={(e) => setTarget(e.target.value)}>
            <option value="auto">Automatic: the least used healthy server</option>
            {servers.data?.data
              .filter((s) => s.id !== customer.assigned_server_id)
              .map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name} ({s.current_load}/{s.max_capacity}, {s.status})
                </option>
              ))}
          </Select>
        </div>
      </ActionDialog>
    </span>
  );
}

function RegenerateKey({ customer, onDone }: { customer: Customer; onDone: () => void }) {
  const [mode, setMode] = React.useState<"live" | "test">("live");
  const [created, setCreated] = React.useState<CreatedKey | null>(null);
  return (
    <ActionDialog
      label="Regenerate key"
      title={created ? "The new key" : `Regenerate ${customer.email}'s ${mode} key`}
      description={
        created
          ? "Give it to the customer now: it is shown only this once."
          : `Every active ${mode} key of this customer is revoked at once (applications using them stop working) and one new ${mode} key is issued.`
      }
      confirmLabel={`Revoke ${mode} keys and issue a new one`}
      onClose={() => setCreated(null)}
      keepOpen
      done={created ? <SecretOnce label={`New ${created.mode} key`} value={created.api_key} /> : undefined}
      onConfirm={async () => {
        setCreated(await adminApi.post<CreatedKey>(`/api/admin/customers/${customer.id}/regenerate-key`, { mode }));
        onDone();
      }}
    >
      <fieldset className="grid gap-2">
        <legend className="mb-1 text-sm font-medium">Which keys</legend>
        <label className="flex items-center gap-2 text-sm">
          <input type="radio" name="regen-mode" checked={mode === "live"} onChange={() => setMode("live")} /> Live keys (<code>ak_live_…</code>)
        </label>
        <label className="flex items-center gap-2 text-sm">
          <input type="radio" name="regen-mode" checked={mode === "test"} onChange={() => setMode("test")} /> Test keys (<code>ak_test_…</code>)
        </label>
      </fieldset>
    </ActionDialog>
  );
}

/** Everything an admin can do to a customer, each behind a confirmation naming it. */
export function CustomerActions({ customer, onGone }: { customer: Customer; onGone: () => void }) {
  const qc = useQueryClient();
  const router = useRouter();
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: ["admin", "customers"] });
    void qc.invalidateQueries({ queryKey: ["admin", "logs"] });
  };
  const id = customer.id;
  /** After a deletion or erasure: to the list, without reloading this customer (404 now). */
  const gone = () => {
    onGone();
    router.replace("/admin/customers");
    void qc.invalidateQueries({ queryKey: ["admin", "customers", "list"] });
    void qc.invalidateQueries({ queryKey: ["admin", "customers", "count"] });
  };
  return (
    <>
      <ChangePlan customer={customer} onDone={refresh} />
      {customer.status === "suspended" ? (
        <ConfirmAction
          label="Activate"
          title={`Activate ${customer.email}?`}
          description="Its API keys and dashboard work again at once."
          confirmLabel="Activate customer"
          onConfirm={() => adminApi.post(`/api/admin/customers/${id}/activate`).then(refresh)}
        />
      ) : (
        <ConfirmAction
          label="Suspend"
          title={`Suspend ${customer.email}?`}
          description="Its API keys are refused (403 CUSTOMER_SUSPENDED) and its dashboard sessions end at once. WhatsApp sessions stay connected. You can activate it again later."
          confirmLabel="Suspend customer"
          destructive
          onConfirm={() => adminApi.post(`/api/admin/customers/${id}/suspend`).then(refresh)}
        />
      )}
      <Reassign customer={customer} onDone={refresh} />
      <RegenerateKey customer={customer} onDone={refresh} />
      <ConfirmAction
        label="Delete"
        variant="destructive"
        destructive
        title={`Delete ${customer.email}?`}
        description="Its keys are revoked, its server slot freed and its sessions closed. Its chats and messages stay in the database (use GDPR erase to remove them). This cannot be undone from the panel."
        confirmLabel="Delete customer"
        typeToConfirm={customer.email}
        onConfirm={async () => {
          await adminApi.del(`/api/admin/customers/${id}`);
          gone();
        }}
      />
      <ConfirmAction
        label="GDPR erase"
        variant="destructive"
        destructive
        title={`Erase ${customer.email} (GDPR)?`}
        description="Its personal data, API keys and webhooks are removed, and its WhatsApp sessions with every chat, message, receipt, group and WhatsApp key; its worker deletes its media files. This cannot be undone."
        confirmLabel="Erase everything"
        typeToConfirm={customer.email}
        onConfirm={async () => {
          await adminApi.post(`/api/admin/customers/${id}/erase`);
          gone();
        }}
      />
    </>
  );
}
