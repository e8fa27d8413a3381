"use client";
import * as React from "react";
import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import type { z } from "zod";
import { AuthCard } from "@/components/auth-card";
import { Field, fieldProps } from "@/components/field";
import { FormError } from "@/components/states";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Alert } from "@/components/ui/alert";
import { api } from "@/lib/api/provider";
import { fieldError } from "@/lib/api/errors";
import { PASSWORD_MIN, resetSchema } from "@/lib/schemas";

type Values = z.infer<typeof resetSchema>;

function ResetForm() {
  const router = useRouter();
  const token = useSearchParams().get("token");
  const [error, setError] = React.useState<unknown>(null);
  const form = useForm<Values>({ resolver: zodResolver(resetSchema), defaultValues: { password: "", confirm: "" } });
  const { errors, isSubmitting } = form.formState;

  const onSubmit = form.handleSubmit(async ({ password }) => {
    setError(null);
    try {
      await api.post("/api/customer/auth/reset", { token, new_password: password });
      router.replace("/login?reset=1");
    } catch (e) {
      setError(e);
    }
  });

  if (!token) {
    return (
      <AuthCard title="Choose a new password" footer={<Link className="text-primary hover:underline" href="/forgot-password">Ask for a new link</Link>}>
        <Alert variant="destructive">This link is incomplete. Open the link from the e-mail again, or ask for a new one.</Alert>
      </AuthCard>
    );
  }
  const pwError = errors.password?.message ?? fieldError(error, "new_password");
  return (
    <AuthCard title="Choose a new password" footer={<Link className="text-primary hover:underline" href="/login">Back to sign in</Link>}>
      <form onSubmit={onSubmit} noValidate className="grid gap-4">
        <Field id="password" label="New password" hint={`At least ${PASSWORD_MIN} characters.`} error={pwError}>
          <Input {...fieldProps("password", pwError, true)} type="password" autoComplete="new-password" {...form.register("password")} />
        </Field>
        <Field id="confirm" label="Repeat the new password" error={errors.confirm?.message}>
          <Input {...fieldProps("confirm", errors.confirm?.message)} type="password" autoComplete="new-password" {...form.register("confirm")} />
        </Field>
        <FormError error={error && !fieldError(error, "new_password") ? error : null} />
        <Button type="submit" disabled={isSubmitting}>
          {isSubmitting ? "Saving…" : "Set the new password"}
        </Button>
      </form>
    </AuthCard>
  );
}

export default function ResetPasswordPage() {
  return (
    <React.Suspense>
      <ResetForm />
    </React.Suspense>
  );
}
