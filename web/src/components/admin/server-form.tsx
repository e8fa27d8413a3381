"use client";
import * as React from "react";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { Field, fieldProps } from "@/components/field";
import { Button } from "@/components/ui/button";
import { Input, Select } from "@/components/ui/input";
import { fieldError } from "@/lib/api/errors";
import { SERVER_STATUSES, serverSchema, type ServerValues } from "@/lib/admin/schemas";
import { AdminFormError } from "./states";
import { label } from "./badges";

const FIELDS: { name: keyof ServerValues; label: string; hint?: string; inputMode?: "numeric" | "decimal"; placeholder?: string; wide?: boolean }[] = [
  { name: "name", label: "Name", placeholder: "worker-sg-1" },
  { name: "ip_address", label: "IP address", placeholder: "10.0.1.21" },
  { name: "api_url", label: "Worker API URL", hint: "Where management reaches the worker. Empty: http://<IP address>:8081.", placeholder: "http://10.0.1.21:8081", wide: true },
  { name: "max_capacity", label: "Capacity (customers)", inputMode: "numeric" },
  { name: "cpu_cores", label: "CPU cores", inputMode: "numeric" },
  { name: "ram_gb", label: "RAM (GB)", inputMode: "numeric" },
  { name: "disk_gb", label: "Disk (GB)", inputMode: "numeric" },
  { name: "region", label: "Region", placeholder: "ap-southeast" },
  { name: "datacenter", label: "Datacenter" },
  { name: "provider", label: "Provider" },
  { name: "cost_per_month", label: "Cost per month", inputMode: "decimal", placeholder: "40.00" },
];

/** The fields of a server, for adding one or editing it (with its status). */
export function ServerForm({
  defaultValues,
  withStatus = false,
  submitLabel,
  onSubmit,
  onCancel,
}: {
  defaultValues: ServerValues;
  withStatus?: boolean;
  submitLabel: string;
  onSubmit: (values: ServerValues) => Promise<void>;
  onCancel?: () => void;
}) {
  const [error, setError] = React.useState<unknown>(null);
  const form = useForm<ServerValues>({ resolver: zodResolver(serverSchema), defaultValues });
  const e = form.formState.errors;
  const submit = form.handleSubmit(async (values) => {
    setError(null);
    try {
      await onSubmit(values);
    } catch (err) {
      setError(err);
    }
  });
  const named = FIELDS.some((f) => fieldError(error, f.name)) || (withStatus && fieldError(error, "status"));
  return (
    <form onSubmit={submit} noValidate className="grid gap-4">
      <div className="grid gap-4 sm:grid-cols-2">
        {FIELDS.map((f) => {
          const id = `server-${f.name}`;
          const message = e[f.name]?.message ?? fieldError(error, f.name);
          return (
            <Field key={f.name} id={id} label={f.label} hint={f.hint} error={message} className={f.wide ? "sm:col-span-2" : undefined}>
              <Input {...fieldProps(id, message, !!f.hint)} inputMode={f.inputMode} placeholder={f.placeholder} {...form.register(f.name)} />
            </Field>
          );
        })}
        {withStatus ? (
          <Field id="server-status" label="Status" hint="Only active servers receive new customers; the others keep the ones they have." error={fieldError(error, "status")} className="sm:col-span-2">
            <Select {...fieldProps("server-status", undefined, true)} {...form.register("status")}>
              {SERVER_STATUSES.map((s) => (
                <option key={s} value={s}>
                  {label(s)}
                </option>
              ))}
            </Select>
          </Field>
        ) : null}
      </div>
      <AdminFormError error={error && !named ? error : null} />
      <div className="flex flex-col-reverse gap-2 sm:flex-row sm:justify-end">
        {onCancel ? (
          <Button variant="outline" onClick={onCancel}>
            Cancel
          </Button>
        ) : null}
        <Button type="submit" disabled={form.formState.isSubmitting}>
          {form.formState.isSubmitting ? "Saving…" : submitLabel}
        </Button>
      </div>
    </form>
  );
}
