"use client";
import * as React from "react";
import Link from "next/link";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { Plus } from "lucide-react";
import { SecretOnce } from "@/components/copy-button";
import { Field, fieldProps } from "@/components/field";
import { Button } from "@/components/ui/button";
import { Dialog, DialogClose, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Input, Select } from "@/components/ui/input";
import { adminApi } from "@/lib/admin/api";
import { useAdminList } from "@/lib/admin/queries";
import { PLANS, customerSchema, toCreateCustomer, type CustomerValues } from "@/lib/admin/schemas";
import type { CreatedCustomer, Server } from "@/lib/admin/types";
import { fieldError } from "@/lib/api/errors";
import { planName } from "@/lib/plans";
import { AdminFormError } from "./states";

const EMPTY: CustomerValues = { email: "", full_name: "", company_name: "", plan: "basic", assign_server: "auto", region: "" };

export function CreateCustomer({ onCreated }: { onCreated: () => void }) {
  const [open, setOpen] = React.useState(false);
  const [created, setCreated] = React.useState<CreatedCustomer | null>(null);
  const [error, setError] = React.useState<unknown>(null);
  const servers = useAdminList<Server>(["servers", "all"], open ? "/api/admin/servers" : null, { query: { per_page: 100 } });
  const form = useForm<CustomerValues>({ resolver: zodResolver(customerSchema), defaultValues: EMPTY });
  const e = form.formState.errors;
  const assign = form.watch("assign_server");

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
      setCreated(await adminApi.post<CreatedCustomer>("/api/admin/customers", toCreateCustomer(v)));
      onCreated();
    } catch (err) {
      setError(err);
    }
  });
  const msg = (name: keyof CustomerValues) => e[name]?.message ?? fieldError(error, name);
  const named = (["email", "full_name", "company_name", "plan", "assign_server", "region"] as const).some((n) => fieldError(error, n));

  return (
    <>
      <Button onClick={() => change(true)}>
        <Plus aria-hidden /> Create customer
      </Button>
      <Dialog open={open} onOpenChange={change}>
        <DialogContent className="max-w-xl">
          <DialogHeader>
            <DialogTitle>{created ? `Customer ${created.email} created` : "Create a customer"}</DialogTitle>
            <DialogDescription>
              {created
                ? "Give the customer these credentials now: they are shown only this once."
                : "The customer gets a live key, a test key for the sandbox and a temporary dashboard password."}
            </DialogDescription>
          </DialogHeader>
          {created ? (
            <div className="grid gap-3">
              <SecretOnce label="Live API key (ak_live_…)" value={created.api_key} />
              <SecretOnce label="Test API key (ak_test_…, the sandbox)" value={created.test_api_key} />
              <SecretOnce label="Temporary dashboard password (changed at first sign-in)" value={created.dashboard_password} />
              <p className="text-sm">
                Dashboard: <code className="break-all">{created.dashboard_url}</code>
                {created.assigned_server_name ? <> · placed on <strong>{created.assigned_server_name}</strong></> : <> · no server assigned</>}
              </p>
              <DialogFooter>
                <Button variant="outline" asChild>
                  <Link href={`/admin/customers/view?id=${created.id}`}>Open the customer</Link>
                </Button>
                <DialogClose asChild>
                  <Button>Done</Button>
                </DialogClose>
              </DialogFooter>
            </div>
          ) : (
            <form onSubmit={submit} noValidate className="grid gap-4">
              <Field id="customer-email" label="E-mail" error={msg("email")}>
                <Input {...fieldProps("customer-email", msg("email"))} type="email" autoComplete="off" {...form.register("email")} />
              </Field>
              <div className="grid gap-4 sm:grid-cols-2">
                <Field id="customer-name" label="Name (optional)" error={msg("full_name")}>
                  <Input {...fieldProps("customer-name", msg("full_name"))} {...form.register("full_name")} />
                </Field>
                <Field id="customer-company" label="Company (optional)" error={msg("company_name")}>
                  <Input {...fieldProps("customer-company", msg("company_name"))} {...form.register("company_name")} />
                </Field>
                <Field id="customer-plan" label="Plan" error={msg("plan")}>
                  <Select {...fieldProps("customer-plan", msg("plan"))} {...form.register("plan")}>
                    {PLANS.map((p) => (
                      <option key={p} value={p}>
                        {planName(p)}
                      </option>
                    ))}
                  </Select>
                </Field>
                <Field id="customer-server" label="Server" error={msg("assign_server")}>
                  <Select {...fieldProps("customer-server", msg("assign_server"))} {...form.register("assign_server")}>
                    <option value="auto">Automatic: the least used healthy server</option>
                    <option value="none">None for now</option>
                    {servers.data?.data.map((s) => (
                      <option key={s.id} value={s.id}>
                        {s.name} ({s.current_load}/{s.max_capacity}, {s.status})
                      </option>
                    ))}
                  </Select>
                </Field>
                {assign === "auto" ? (
                  <Field id="customer-region" label="Region (optional)" hint="Only servers in this region." error={msg("region")} className="sm:col-span-2">
                    <Input {...fieldProps("customer-region", msg("region"), true)} {...form.register("region")} />
                  </Field>
                ) : null}
              </div>
              <AdminFormError error={error && !named ? error : null} />
              <DialogFooter>
                <DialogClose asChild>
                  <Button variant="outline">Cancel</Button>
                </DialogClose>
                <Button type="submit" disabled={form.formState.isSubmitting}>
                  {form.formState.isSubmitting ? "Creating…" : "Create customer"}
                </Button>
              </DialogFooter>
            </form>
          )}
        </DialogContent>
      </Dialog>
    </>
  );
}
