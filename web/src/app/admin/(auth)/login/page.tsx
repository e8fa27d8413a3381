"use client";
import * as React from "react";
import { useRouter, useSearchParams } from "next/navigation";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import type { z } from "zod";
import { AuthCard } from "@/components/auth-card";
import { Field, fieldProps } from "@/components/field";
import { AdminFormError } from "@/components/admin/states";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { adminApi, useSetOperator } from "@/lib/admin/api";
import { safeAdminNext } from "@/lib/admin/roles";
import { adminLoginSchema, totpSchema } from "@/lib/admin/schemas";
import type { OperatorInfo, TokenResponse } from "@/lib/admin/types";
import { ApiError } from "@/lib/api/errors";

type Credentials = z.infer<typeof adminLoginSchema>;
type Code = z.input<typeof totpSchema>;

function AdminLoginForm() {
  const router = useRouter();
  const params = useSearchParams();
  const setOperator = useSetOperator();
  const next = safeAdminNext(params.get("next"));
  const [error, setError] = React.useState<unknown>(null);
  /** The e-mail and password, kept while the TOTP code is asked for. */
  const [pending, setPending] = React.useState<Credentials | null>(null);
  const form = useForm<Credentials>({ resolver: zodResolver(adminLoginSchema), defaultValues: { email: "", password: "" } });
  const codeForm = useForm<Code>({ resolver: zodResolver(totpSchema), defaultValues: { code: "" } });

  const signIn = async (credentials: Credentials, totp_code?: string) => {
    setError(null);
    try {
      const tokens = await adminApi.post<TokenResponse>("/api/admin/auth/login", { ...credentials, totp_code });
      setOperator(tokens.admin);
      const admin: OperatorInfo = tokens.admin;
      router.replace(admin.must_change_password ? `/admin/change-password${next === "/admin" ? "" : `?next=${encodeURIComponent(next)}`}` : next);
    } catch (e) {
      if (e instanceof ApiError && e.code === "MFA_REQUIRED") {
        setPending(credentials);
        return;
      }
      if (e instanceof ApiError && (e.code === "INVALID_CREDENTIALS" || e.code === "ACCOUNT_LOCKED")) {
        // Start over from the password: a lock or a wrong password ends the code step.
        setPending(null);
        codeForm.reset();
      }
      setError(e);
    }
  };

  const onCredentials = form.handleSubmit((values) => signIn(values));
  const onCode = codeForm.handleSubmit(async ({ code }) => {
    if (pending) await signIn(pending, code.replace(/\s+/g, ""));
  });
  const e = form.formState.errors;
  const codeError = codeForm.formState.errors.code?.message;

  if (pending) {
    return (
      <AuthCard title="Two-factor authentication" description={`Enter the 6-digit code your authenticator app shows for ${pending.email}.`}>
        <form onSubmit={onCode} noValidate className="grid gap-4">
          <Field id="totp" label="Authentication code" error={codeError}>
            <Input
              {...fieldProps("totp", codeError)}
              inputMode="numeric"
              autoComplete="one-time-code"
              autoFocus
              maxLength={7}
              placeholder="123456"
              {...codeForm.register("code")}
            />
          </Field>
          <AdminFormError error={error} />
          <Button type="submit" disabled={codeForm.formState.isSubmitting}>
            {codeForm.formState.isSubmitting ? "Checking…" : "Verify and sign in"}
          </Button>
          <Button
            variant="ghost"
            onClick={() => {
              setPending(null);
              setError(null);
              codeForm.reset();
            }}
          >
            Use another account
          </Button>
        </form>
      </AuthCard>
    );
  }

  return (
    <AuthCard title="Operator sign-in" description="Sign in to run your wasp fleet: servers, customers, operators and logs.">
      <form onSubmit={onCredentials} noValidate className="grid gap-4">
        {params.get("signed_out") ? (
          <p className="text-sm text-muted-foreground" role="status">
            You are signed out.
          </p>
        ) : null}
        <Field id="email" label="E-mail" error={e.email?.message}>
          <Input {...fieldProps("email", e.email?.message)} type="email" autoComplete="username" autoFocus {...form.register("email")} />
        </Field>
        <Field id="password" label="Password" error={e.password?.message}>
          <Input {...fieldProps("password", e.password?.message)} type="password" autoComplete="current-password" {...form.register("password")} />
        </Field>
        <AdminFormError error={error} />
        <Button type="submit" disabled={form.formState.isSubmitting}>
          {form.formState.isSubmitting ? "Signing in…" : "Sign in"}
        </Button>
        <p className="text-center text-xs text-muted-foreground">Forgot your password? Ask a super admin to reset it.</p>
      </form>
    </AuthCard>
  );
}

export default function AdminLoginPage() {
  return (
    <React.Suspense>
      <AdminLoginForm />
    </React.Suspense>
  );
}
