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
import { api } from "@/lib/api/provider";
import type { SessionInfo } from "@/lib/api/types";
import { loginSchema } from "@/lib/schemas";
import { safeNext, useSetSession } from "@/lib/session";

type Values = z.infer<typeof loginSchema>;

function LoginForm() {
  const router = useRouter();
  const params = useSearchParams();
  const setSession = useSetSession();
  const [error, setError] = React.useState<unknown>(null);
  const form = useForm<Values>({ resolver: zodResolver(loginSchema), defaultValues: { email: "", password: "" } });
  const { errors, isSubmitting } = form.formState;
  const next = safeNext(params.get("next"));

  const onSubmit = form.handleSubmit(async (values) => {
    setError(null);
    try {
      const info = await api.post<SessionInfo>("/api/customer/auth/login", values);
      setSession(info);
      router.replace(info.must_change_password ? `/change-password?next=${encodeURIComponent(next)}` : next);
    } catch (e) {
      setError(e);
    }
  });

  return (
    <AuthCard
      title="Sign in"
      description="Sign in to your wasp dashboard."
      footer={
        <>
          No account yet?{" "}
          <Link className="font-medium text-primary hover:underline" href="/register">
            Create one
          </Link>
        </>
      }
    >
      <form onSubmit={onSubmit} noValidate className="grid gap-4">
        {params.get("signed_out") ? <p className="text-sm text-muted-foreground" role="status">You are signed out.</p> : null}
        {params.get("reset") ? <p className="text-sm text-muted-foreground" role="status">Your password was changed. Sign in with the new one.</p> : null}
        <Field id="email" label="E-mail" error={errors.email?.message}>
          <Input {...fieldProps("email", errors.email?.message)} type="email" autoComplete="email" autoFocus {...form.register("email")} />
        </Field>
        <Field id="password" label="Password" error={errors.password?.message}>
          <Input {...fieldProps("password", errors.password?.message)} type="password" autoComplete="current-password" {...form.register("password")} />
        </Field>
        <FormError error={error} />
        <Button type="submit" disabled={isSubmitting}>
          {isSubmitting ? "Signing in…" : "Sign in"}
        </Button>
        <Link href="/forgot-password" className="text-center text-sm text-primary hover:underline">
          Forgot your password?
        </Link>
      </form>
    </AuthCard>
  );
}

export default function LoginPage() {
  return (
    <React.Suspense>
      <LoginForm />
    </React.Suspense>
  );
}
