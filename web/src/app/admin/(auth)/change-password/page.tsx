"use client";
import * as React from "react";
import { useRouter, useSearchParams } from "next/navigation";
import { AuthCard } from "@/components/auth-card";
import { AdminPasswordForm } from "@/components/admin/password-form";
import { AdminErrorState } from "@/components/admin/states";
import { Loading } from "@/components/states";
import { adminLoginUrl, useOperator } from "@/lib/admin/api";
import { safeAdminNext } from "@/lib/admin/roles";
import { ApiError } from "@/lib/api/errors";

/** An operator's own password, chosen after signing in with a temporary one. */
function AdminChangePassword() {
  const router = useRouter();
  const next = safeAdminNext(useSearchParams().get("next"));
  const operator = useOperator();
  const signedOut = operator.error instanceof ApiError && operator.error.status === 401;

  React.useEffect(() => {
    if (signedOut) window.location.replace(adminLoginUrl());
  }, [signedOut]);

  if (operator.isPending || signedOut) return <Loading rows={3} label="Loading your operator account…" />;
  if (operator.error) return <AdminErrorState error={operator.error} onRetry={() => operator.refetch()} title="Your operator account could not be loaded" />;
  const forced = operator.data.must_change_password ?? false;
  return (
    <AuthCard
      title="Choose your own password"
      description={
        forced
          ? `You signed in as ${operator.data.email} with a temporary password. Choose a new one to continue: enter the temporary one as the current password.`
          : "Change the password you sign in with."
      }
    >
      <AdminPasswordForm onDone={() => router.replace(next)} submitLabel="Save and continue" />
    </AuthCard>
  );
}

export default function AdminChangePasswordPage() {
  return (
    <React.Suspense>
      <AdminChangePassword />
    </React.Suspense>
  );
}
