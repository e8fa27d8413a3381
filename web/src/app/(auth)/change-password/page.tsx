"use client";
import * as React from "react";
import { useRouter, useSearchParams } from "next/navigation";
import { AuthCard } from "@/components/auth-card";
import { ChangePasswordForm } from "@/components/change-password-form";
import { Loading } from "@/components/states";
import { safeNext, useSession } from "@/lib/session";
import { loginUrl } from "@/lib/api/provider";
import { ApiError } from "@/lib/api/errors";

function ChangePassword() {
  const router = useRouter();
  const next = safeNext(useSearchParams().get("next"));
  const session = useSession();

  React.useEffect(() => {
    if (session.error instanceof ApiError && session.error.status === 401) window.location.assign(loginUrl());
  }, [session.error]);

  if (session.isPending) return <Loading rows={3} />;
  const forced = session.data?.must_change_password ?? true;
  return (
    <AuthCard
      title="Choose your own password"
      description={
        forced
          ? "You signed in with a temporary password. Choose a new one to continue."
          : "Change the password you sign in with."
      }
    >
      <ChangePasswordForm onDone={() => router.replace(next)} submitLabel="Save and continue" />
    </AuthCard>
  );
}

export default function ChangePasswordPage() {
  return (
    <React.Suspense>
      <ChangePassword />
    </React.Suspense>
  );
}
