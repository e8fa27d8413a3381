"use client";
import * as React from "react";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { useQueryClient } from "@tanstack/react-query";
import type { z } from "zod";
import { Field, fieldProps } from "@/components/field";
import { FormError } from "@/components/states";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { api } from "@/lib/api/provider";
import { fieldError } from "@/lib/api/errors";
import type { Customer, SessionInfo } from "@/lib/api/types";
import { profileSchema } from "@/lib/schemas";
import { SESSION_KEY } from "@/lib/session";

type Values = z.infer<typeof profileSchema>;
const FIELDS = ["name", "company", "timezone", "language"] as const;

/** The browser's own list of time zones (no download), for the field's suggestions. */
function timeZones(): string[] {
  try {
    return (Intl as unknown as { supportedValuesOf?: (key: string) => string[] }).supportedValuesOf?.("timeZone") ?? [];
  } catch {
    return [];
  }
}

/** Edit the customer's own profile: name, company, time zone and language. */
export function ProfileForm({ customer }: { customer: Customer }) {
  const qc = useQueryClient();
  const [error, setError] = React.useState<unknown>(null);
  const [saved, setSaved] = React.useState(false);
  const zones = React.useMemo(timeZones, []);
  const initial = React.useMemo<Values>(
    () => ({ name: customer.name ?? "", company: customer.company ?? "", timezone: customer.timezone, language: customer.language }),
    [customer],
  );
  const form = useForm<Values>({ resolver: zodResolver(profileSchema), defaultValues: initial });
  const { errors, isSubmitting, isDirty } = form.formState;

  const onSubmit = form.handleSubmit(async (values) => {
    setError(null);
    setSaved(false);
    // Only what changed is sent; an emptied name or company is removed.
    const changed = Object.fromEntries(FIELDS.filter((f) => values[f] !== initial[f]).map((f) => [f, values[f]]));
    try {
      const info = await api.patch<SessionInfo>("/api/customer/auth/me", changed);
      qc.setQueryData(SESSION_KEY, info);
      form.reset({
        name: info.customer.name ?? "",
        company: info.customer.company ?? "",
        timezone: info.customer.timezone,
        language: info.customer.language,
      });
      setSaved(true);
    } catch (e) {
      setError(e);
    }
  });

  const errorOf = (f: (typeof FIELDS)[number]) => errors[f]?.message ?? fieldError(error, f);
  const shownAtField = FIELDS.some((f) => fieldError(error, f));
  return (
    <form onSubmit={onSubmit} noValidate className="grid gap-4" aria-label="Profile">
      <div className="grid gap-4 sm:grid-cols-2">
        <Field id="profile-name" label="Name" error={errorOf("name")}>
          <Input {...fieldProps("profile-name", errorOf("name"))} autoComplete="name" {...form.register("name")} />
        </Field>
        <Field id="profile-company" label="Company" error={errorOf("company")}>
          <Input {...fieldProps("profile-company", errorOf("company"))} autoComplete="organization" {...form.register("company")} />
        </Field>
        <Field id="profile-timezone" label="Time zone" hint="Such as Asia/Jakarta or UTC." error={errorOf("timezone")}>
          <Input
            {...fieldProps("profile-timezone", errorOf("timezone"), true)}
            list={zones.length ? "profile-timezones" : undefined}
            autoComplete="off"
            spellCheck={false}
            {...form.register("timezone")}
          />
        </Field>
        <Field id="profile-language" label="Language" hint="A language tag, such as en or pt-BR." error={errorOf("language")}>
          <Input {...fieldProps("profile-language", errorOf("language"), true)} autoComplete="off" spellCheck={false} {...form.register("language")} />
        </Field>
      </div>
      {zones.length ? (
        <datalist id="profile-timezones">
          {zones.map((z) => (
            <option key={z} value={z} />
          ))}
        </datalist>
      ) : null}
      <FormError error={error && !shownAtField ? error : null} />
      {saved && !isDirty ? (
        <p role="status" className="text-sm text-primary">
          Your profile was saved.
        </p>
      ) : null}
      <div>
        <Button type="submit" disabled={isSubmitting || !isDirty}>
          {isSubmitting ? "Saving…" : "Save profile"}
        </Button>
      </div>
    </form>
  );
}
