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
import { ApiError, fieldError } from "@/lib/api/errors";
import { PASSWORD_MIN, changePasswordSchema } from "@/lib/schemas";
import { SESSION_KEY } from "@/lib/session";

type Values = z.infer<typeof changePasswordSchema>;

/**
 * Current password, new password twice: the form of a customer's and an operator's
 * password change. `submit` sends it; `ErrorView` says what went wrong.
 */
export function PasswordForm({
  submit,
  onDone,
  submitLabel = "Change password",
  doneText = "Your password was changed.",
  ErrorView = FormError,
  buttonClassName,
}: {
  submit: (current_password: string, new_password: string) => Promise<unknown>;
  onDone?: () => void;
  submitLabel?: string;
  doneText?: string;
  ErrorView?: (props: { error: unknown }) => React.ReactNode;
  buttonClassName?: string;
}) {
  const [error, setError] = React.useState<unknown>(null);
  const [done, setDone] = React.useState(false);
  const form = useForm<Values>({
    resolver: zodResolver(changePasswordSchema),
    defaultValues: { current_password: "", new_password: "", confirm: "" },
  });
  const { errors, isSubmitting } = form.formState;

  const onSubmit = form.handleSubmit(async ({ current_password, new_password }) => {
    setError(null);
    setDone(false);
    try {
      await submit(current_password, new_password);
      form.reset();
      setDone(true);
      onDone?.();
    } catch (e) {
      setError(e);
    }
  });

  const wrongCurrent = error instanceof ApiError && error.code === "INVALID_CREDENTIALS" ? "The current password is not right" : undefined;
  const currentError = errors.current_password?.message ?? wrongCurrent ?? fieldError(error, "current_password");
  const newError = errors.new_password?.message ?? fieldError(error, "new_password");
  return (
    <form onSubmit={onSubmit} noValidate className="grid gap-4">
      <Field id="current_password" label="Current password" error={currentError}>
        <Input {...fieldProps("current_password", currentError)} type="password" autoComplete="current-password" {...form.register("current_password")} />
      </Field>
      <Field id="new_password" label="New password" hint={`At least ${PASSWORD_MIN} characters.`} error={newError}>
        <Input {...fieldProps("new_password", newError, true)} type="password" autoComplete="new-password" {...form.register("new_password")} />
      </Field>
      <Field id="confirm" label="Repeat the new password" error={errors.confirm?.message}>
        <Input {...fieldProps("confirm", errors.confirm?.message)} type="password" autoComplete="new-password" {...form.register("confirm")} />
      </Field>
      <ErrorView error={error && !currentError && !newError ? error : null} />
      {done ? (
        <p role="status" className="text-sm text-primary">
          {doneText}
        </p>
      ) : null}
      <Button type="submit" disabled={isSubmitting} className={buttonClassName}>
        {isSubmitting ? "Saving…" : submitLabel}
      </Button>
    </form>
  );
}

/** A customer's password change (POST /api/customer/auth/password). */
export function ChangePasswordForm({ onDone, submitLabel }: { onDone?: () => void; submitLabel?: string }) {
  const qc = useQueryClient();
  return (
    <PasswordForm
      submitLabel={submitLabel}
      onDone={onDone}
      submit={async (current_password, new_password) => {
        await api.post("/api/customer/auth/password", { current_password, new_password });
        await qc.invalidateQueries({ queryKey: SESSION_KEY });
      }}
    />
  );
}
