"use client";
import * as React from "react";
import { AdminShell } from "@/components/admin/admin-shell";
import { AdminErrorState } from "@/components/admin/states";
import { Spinner } from "@/components/states";
import { adminChangePasswordUrl, adminLoginUrl, useOperator } from "@/lib/admin/api";
import { ApiError } from "@/lib/api/errors";

/**
 * The admin panel: a signed-in operator, else the sign-in page; an operator still on a
 * temporary password chooses their own first.
 */
export default function AdminPanelLayout({ children }: { children: React.ReactNode }) {
  const operator = useOperator();
  const error = operator.error;
  const signedOut = error instanceof ApiError && (error.status === 401 || error.code === "UNAUTHORIZED");
  const mustChange = operator.data?.must_change_password === true;

  React.useEffect(() => {
    if (signedOut) window.location.replace(adminLoginUrl());
    else if (mustChange) window.location.replace(adminChangePasswordUrl());
  }, [signedOut, mustChange]);

  if (operator.data && !mustChange) return <AdminShell operator={operator.data}>{children}</AdminShell>;
  if (error && !signedOut) {
    return (
      <div className="mx-auto max-w-md p-6">
        <AdminErrorState error={error} onRetry={() => operator.refetch()} title="Your operator account could not be loaded" />
      </div>
    );
  }
  return (
    <div className="flex min-h-dvh items-center justify-center">
      <Spinner label="Loading the admin panel…" />
    </div>
  );
}
