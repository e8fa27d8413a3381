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
import { fieldError } from "@/lib/api/errors";
import { PASSWORD_MIN, registerSchema } from "@/lib/schemas";

type Values = z.infer<typeof registerSchema>;

export default function RegisterPage() {
  const [error, setError] = React.useState<unknown>(null);
  const [sentTo, setSentTo] = React.useState<string | null>(null);
  const form = useForm<Values>({
    resolver: zodResolver(registerSchema),
    defaultValues: { email: "", name: "", company: "", password: "", confirm: "" },
  });
  const { errors, isSubmitting } = form.formState;

  const onSubmit = form.handleSubmit(async ({ email, name, company, password }) => {
    setError(null);
    try {
      await api.post("/api/customer/auth/signup", {
        email,
        password,
        ...(name ? { name } : {}),
        ...(company ? { company } : {}),
      });
      setSentTo(email);
    } catch (e) {
      setError(e);
    }
  });

  if (sentTo) {
    return (
      <AuthCard title="Check your e-mail" footer={<Link className="text-primary hover:underline" href="/login">Back to sign in</Link>}>
        <Alert variant="success">
          We sent a confirmation link to <strong>{sentTo}</strong>. Open it to activate your account, then sign in.
        </Alert>
      </AuthCard>
    );
  }

  const err = (f: keyof Values) => errors[f]?.message ?? fieldError(error, f);
  return (
    <AuthCard
      title="Create your account"
      description="Start in test mode with the sandbox: no phone needed."
      footer={
        <>
          Already have an account?{" "}
          <Link className="font-medium text-primary hover:underline" href="/login">
            Sign in
          </Link>
        </>
      }
    >
      <form onSubmit={onSubmit} noValidate className="grid gap-4">
        <Field id="email" label="E-mail" error={err("email")}>
          <Input {...fieldProps("email", err("email"))} type="email" autoComplete="email" {...form.register("email")} />
        </Field>
        <Field id="name" label="Your name (optional)" error={err("name")}>
          <Input {...fieldProps("name", err("name"))} autoComplete="name" {...form.register("name")} />
        </Field>
        <Field id="company" label="Company (optional)" error={err("company")}>
          <Input {...fieldProps("company", err("company"))} autoComplete="organization" {...form.register("company")} />
        </Field>
        <Field id="password" label="Password" hint={`At least ${PASSWORD_MIN} characters.`} error={err("password")}>
          <Input {...fieldProps("password", err("password"), true)} type="password" autoComplete="new-password" {...form.register("password")} />
        </Field>
        <Field id="confirm" label="Repeat the password" error={errors.confirm?.message}>
          <Input {...fieldProps("confirm", errors.confirm?.message)} type="password" autoComplete="new-password" {...form.register("confirm")} />
        </Field>
        <FormError error={error && !fieldError(error, "email") && !fieldError(error, "password") ? error : null} />
        <Button type="submit" disabled={isSubmitting}>
          {isSubmitting ? "Creating…" : "Create account"}
        </Button>
      </form>
    </AuthCard>
  );
}
