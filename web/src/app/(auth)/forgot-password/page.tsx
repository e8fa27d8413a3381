"use client";
import * as React from "react";
import Link from "next/link";
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
import { forgotSchema } from "@/lib/schemas";

type Values = z.infer<typeof forgotSchema>;

export default function ForgotPasswordPage() {
  const [error, setError] = React.useState<unknown>(null);
  const [sent, setSent] = React.useState<string | null>(null);
  const form = useForm<Values>({ resolver: zodResolver(forgotSchema), defaultValues: { email: "" } });
  const { errors, isSubmitting } = form.formState;

  const onSubmit = form.handleSubmit(async ({ email }) => {
    setError(null);
    try {
      await api.post("/api/customer/auth/forgot", { email });
      setSent(email);
    } catch (e) {
      setError(e);
    }
  });

  return (
    <AuthCard
      title="Reset your password"
      description="We will e-mail you a link to choose a new password."
      footer={<Link className="text-primary hover:underline" href="/login">Back to sign in</Link>}
    >
      {sent ? (
        <Alert variant="success">
          If an account exists for <strong>{sent}</strong>, a reset link is on its way. It works once, for a limited time.
        </Alert>
      ) : (
        <form onSubmit={onSubmit} noValidate className="grid gap-4">
          <Field id="email" label="E-mail" error={errors.email?.message}>
            <Input {...fieldProps("email", errors.email?.message)} type="email" autoComplete="email" {...form.register("email")} />
          </Field>
          <FormError error={error} />
          <Button type="submit" disabled={isSubmitting}>
            {isSubmitting ? "Sending…" : "Send the reset link"}
          </Button>
        </form>
      )}
    </AuthCard>
  );
}
