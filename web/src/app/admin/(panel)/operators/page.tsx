"use client";
import * as React from "react";
import { useQueryClient } from "@tanstack/react-query";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { Plus } from "lucide-react";
import { PageHeader } from "@/components/app-shell";
import { StateBadge } from "@/components/admin/badges";
import { ConfirmAction } from "@/components/admin/confirm";
import { AdminErrorState, AdminFormError, useCan } from "@/components/admin/states";
import { SecretOnce } from "@/components/copy-button";
import { Field, fieldProps } from "@/components/field";
import { Empty, Loading } from "@/components/states";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { Dialog, DialogClose, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Input, Select } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { adminApi, useOperator } from "@/lib/admin/api";
import { useAdminQuery } from "@/lib/admin/queries";
import { ROLE_LABELS } from "@/lib/admin/roles";
import { ROLES, operatorSchema, toCreateOperator, type OperatorValues } from "@/lib/admin/schemas";
import type { Operator, OperatorWithPassword, Role } from "@/lib/admin/types";
import { fieldError } from "@/lib/api/errors";
import { formatDateTime } from "@/lib/format";

const ROLE_TEXT: Record<Role, string> = {
  viewer: "reads everything, changes nothing",
  admin: "manages servers, customers and keys",
  super_admin: "also manages operators",
};
const roleName = (r: string) => ROLE_LABELS[r as Role] ?? r;
const EMPTY: OperatorValues = { email: "", full_name: "", role: "admin", password: "" };

function CreateOperator({ onCreated }: { onCreated: () => void }) {
  const [open, setOpen] = React.useState(false);
  const [created, setCreated] = React.useState<OperatorWithPassword | null>(null);
  const [error, setError] = React.useState<unknown>(null);
  const form = useForm<OperatorValues>({ resolver: zodResolver(operatorSchema), defaultValues: EMPTY });
  const e = form.formState.errors;
  const change = (next: boolean) => {
    setOpen(next);
    if (!next) {
      setCreated(null);
      setError(null);
      form.reset(EMPTY);
    }
  };
  const submit = form.handleSubmit(async (v) => {
    setError(null);
    try {
      setCreated(await adminApi.post<OperatorWithPassword>("/api/admin/users", toCreateOperator(v)));
      onCreated();
    } catch (err) {
      setError(err);
    }
  });
  const msg = (n: keyof OperatorValues) => e[n]?.message ?? fieldError(error, n);
  return (
    <>
      <Button onClick={() => change(true)}>
        <Plus aria-hidden /> Add operator
      </Button>
      <Dialog open={open} onOpenChange={change}>
        <DialogContent>
          <DialogHeader>
            <DialogTitle>{created ? `Operator ${created.email} added` : "Add an operator"}</DialogTitle>
            <DialogDescription>
              {created ? (created.password ? "Give them this password now: it is shown only this once." : "They sign in with the password you chose.") : "Someone who runs the platform with you."}
            </DialogDescription>
          </DialogHeader>
          {created ? (
            <div className="grid gap-4">
              {created.password ? <SecretOnce label="Password" value={created.password} /> : null}
              <DialogFooter>
                <DialogClose asChild>
                  <Button>Done</Button>
                </DialogClose>
              </DialogFooter>
            </div>
          ) : (
            <form onSubmit={submit} noValidate className="grid gap-4">
              <Field id="op-email" label="E-mail" error={msg("email")}>
                <Input {...fieldProps("op-email", msg("email"))} type="email" autoComplete="off" {...form.register("email")} />
              </Field>
              <Field id="op-name" label="Name (optional)" error={msg("full_name")}>
                <Input {...fieldProps("op-name", msg("full_name"))} {...form.register("full_name")} />
              </Field>
              <Field id="op-role" label="Role" error={msg("role")}>
                <Select {...fieldProps("op-role", msg("role"))} {...form.register("role")}>
                  {ROLES.map((r) => (
                    <option key={r} value={r}>
                      {ROLE_LABELS[r]}: {ROLE_TEXT[r]}
                    </option>
                  ))}
                </Select>
              </Field>
              <Field id="op-password" label="Password (optional)" hint="At least 12 characters. Empty: one is generated and shown once." error={msg("password")}>
                <Input {...fieldProps("op-password", msg("password"), true)} type="password" autoComplete="new-password" {...form.register("password")} />
              </Field>
              <AdminFormError error={error && !(["email", "full_name", "role", "password"] as const).some((n) => fieldError(error, n)) ? error : null} />
              <DialogFooter>
                <DialogClose asChild>
                  <Button variant="outline">Cancel</Button>
                </DialogClose>
                <Button type="submit" disabled={form.formState.isSubmitting}>
                  {form.formState.isSubmitting ? "Adding…" : "Add operator"}
                </Button>
              </DialogFooter>
            </form>
          )}
        </DialogContent>
      </Dialog>
    </>
  );
}

function ChangeRole({ operator, onDone }: { operator: Operator; onDone: () => void }) {
  const [open, setOpen] = React.useState(false);
  const [role, setRole] = React.useState(operator.role);
  const [error, setError] = React.useState<unknown>(null);
  const [pending, setPending] = React.useState(false);
  return (
    <>
      <Button variant="outline" size="sm" onClick={() => (setRole(operator.role), setError(null), setOpen(true))} aria-label={`Change the role of ${operator.email}`}>
        Role
      </Button>
      <Dialog open={open} onOpenChange={setOpen}>
        <DialogContent>
          <DialogHeader>
            <DialogTitle>Change {operator.email}&apos;s role</DialogTitle>
            <DialogDescription>Now {roleName(operator.role)}. The new role applies to their next request.</DialogDescription>
          </DialogHeader>
          <div className="grid gap-1.5">
            <Label htmlFor="new-role">Role</Label>
            <Select id="new-role" value={role} onChange={(e) => setRole(e.target.value)}>
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {ROLE_LABELS[r]}: {ROLE_TEXT[r]}
                </option>
              ))}
            </Select>
          </div>
          <AdminFormError error={error} />
          <DialogFooter>
            <DialogClose asChild>
              <Button variant="outline">Cancel</Button>
            </DialogClose>
            <Button
              disabled={pending || role === operator.role}
              onClick={async () => {
                setPending(true);
                setError(null);
                try {
                  await adminApi.put(`/api/admin/users/${operator.id}`, { role });
                  setOpen(false);
                  onDone();
                } catch (e) {
                  setError(e);
                } finally {
                  setPending(false);
                }
              }}
            >
              Make {roleName(role)}
            </Button>
          </DialogFooter>
        </DialogContent>
      </Dialog>
    </>
  );
}

function ResetPassword({ operator, onDone }: { operator: Operator; onDone: () => void }) {
  const [password, setPassword] = React.useState<string | null>(null);
  return (
    <>
      <ConfirmAction
        label="Reset password"
        buttonProps={{ "aria-label": `Reset the password of ${operator.email}` }}
        title={`Reset ${operator.email}'s password?`}
        description="A new password is generated and shown once; the old one stops working, every session of theirs ends, and a lockout is lifted."
        confirmLabel="Reset password"
        onConfirm={async () => {
          const r = await adminApi.post<OperatorWithPassword>(`/api/admin/users/${operator.id}/reset-password`);
          setPassword(r.password ?? null);
          onDone();
        }}
      />
      <Dialog open={password !== null} onOpenChange={(o) => !o && setPassword(null)}>
        <DialogContent>
          <DialogHeader>
            <DialogTitle>New password for {operator.email}</DialogTitle>
            <DialogDescription>Give it to them now: it is shown only this once.</DialogDescription>
          </DialogHeader>
          {password ? <SecretOnce label="Password" value={password} /> : null}
          <DialogFooter>
            <DialogClose asChild>
              <Button>Done</Button>
            </DialogClose>
          </DialogFooter>
        </DialogContent>
      </Dialog>
    </>
  );
}

export default function OperatorsPage() {
  const qc = useQueryClient();
  const me = useOperator().data;
  const superAdmin = useCan("super_admin");
  const operators = useAdminQuery<Operator[]>(["operators"], superAdmin ? "/api/admin/users" : null);
  const refresh = () => qc.invalidateQueries({ queryKey: ["admin", "operators"] });

  if (!superAdmin) {
    return (
      <>
        <PageHeader title="Operators" />
        <Empty title="Only super admins manage operators">Ask a super admin to add, change or remove operators.</Empty>
      </>
    );
  }
  return (
    <>
      <PageHeader title="Operators" description="Who runs the platform, with which role." actions={<CreateOperator onCreated={refresh} />} />
      {operators.isPending ? <Loading rows={3} /> : null}
      {operators.error ? <AdminErrorState error={operators.error} onRetry={() => operators.refetch()} /> : null}
      {operators.data ? (
        <Card className="relative overflow-x-auto">
          <table className="w-full text-sm">
            <caption className="sr-only">Operators</caption>
            <thead className="border-b text-left text-xs text-muted-foreground">
              <tr>
                <th scope="col" className="px-4 py-2 font-medium">Operator</th>
                <th scope="col" className="px-4 py-2 font-medium">Role</th>
                <th scope="col" className="px-4 py-2 font-medium">State</th>
                <th scope="col" className="px-4 py-2 font-medium">Last sign-in</th>
                <th scope="col" className="px-4 py-2 font-medium"><span className="sr-only">Actions</span></th>
              </tr>
            </thead>
            <tbody className="divide-y">
              {operators.data.map((o) => {
                const self = o.id === me?.id;
                const locked = o.locked_until && new Date(o.locked_until) > new Date();
                return (
                  <tr key={o.id} data-testid="operator-row">
                    <td className="max-w-64 px-4 py-3">
                      <p className="truncate font-medium">
                        {o.email} {self ? <span className="text-xs font-normal text-muted-foreground">(you)</span> : null}
                      </p>
                      <p className="truncate text-xs text-muted-foreground">{o.full_name ?? "—"}</p>
                    </td>
                    <td className="px-4 py-3">{roleName(o.role)}</td>
                    <td className="px-4 py-3">
                      <div className="flex flex-wrap gap-1">
                        <StateBadge value={o.is_active ? "active" : "inactive"} what="Account" />
                        {o.mfa_enabled ? <Badge variant="secondary">MFA</Badge> : null}
                        {o.must_change_password ? (
                          <Badge variant="warning" title="Still on a temporary password: they choose their own at their next sign-in">
                            Must change password
                          </Badge>
                        ) : null}
                        {locked ? <Badge variant="destructive">Locked</Badge> : null}
                      </div>
                    </td>
                    <td className="px-4 py-3 text-xs whitespace-nowrap">{o.last_login_at ? formatDateTime(o.last_login_at) : "Never"}</td>
                    <td className="px-4 py-3">
                      {self ? null : (
                        <div className="flex flex-wrap justify-end gap-2">
                          <ChangeRole operator={o} onDone={refresh} />
                          <ResetPassword operator={o} onDone={refresh} />
                          {o.is_active ? (
                            <ConfirmAction
                              label="Deactivate"
                              buttonProps={{ "aria-label": `Deactivate ${o.email}` }}
                              destructive
                              title={`Deactivate ${o.email}?`}
                              description="They can no longer sign in, and every session of theirs ends at once. You can reactivate them later."
                              confirmLabel="Deactivate operator"
                              onConfirm={() => adminApi.del(`/api/admin/users/${o.id}`).then(refresh)}
                            />
                          ) : (
                            <ConfirmAction
                              label="Reactivate"
                              buttonProps={{ "aria-label": `Reactivate ${o.email}` }}
                              title={`Reactivate ${o.email}?`}
                              description="They can sign in again with their password."
                              confirmLabel="Reactivate operator"
                              onConfirm={() => adminApi.put(`/api/admin/users/${o.id}`, { is_active: true }).then(refresh)}
                            />
                          )}
                        </div>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </Card>
      ) : null}
    </>
  );
}
