"use client";
import * as React from "react";
import { AppShell } from "@/components/app-shell";
import { ErrorState, Spinner } from "@/components/states";
import { ApiError } from "@/lib/api/errors";
import { loginUrl } from "@/lib/api/provider";
import { useSession } from "@/lib/session";

/** The customer area: signed in, with a password of the customer's own. */
export default function DashboardLayout({ children }: { children: React.ReactNode }) {
  const session = useSession();
  const error = session.error;
  const mustChange =
    session.data?.must_change_password || (error instanceof ApiError && error.code === "PASSWORD_CHANGE_REQUIRED");
  const signedOut = error instanceof ApiError && (error.status === 401 || error.code === "UNAUTHORIZED");

  React.useEffect(() => {
    if (signedOut) window.location.replace(loginUrl());
    else if (mustChange) {
      const here = window.location.pathname + window.location.search;
      window.location.replace(`/change-password?next=${encodeURIComponent(here)}`);
    }
  }, [signedOut, mustChange]);

  if (session.data && !mustChange) return <AppShell session={session.data}>{children}</AppShell>;
  if (error && !signedOut && !mustChange) {
    return (
      <div className="mx-auto max-w-md p-6">
        <ErrorState error={error} onRetry={() => session.refetch()} title="Your account could not be loaded" />
      </div>
    );
  }
  return (
    <div className="flex min-h-dvh items-center justify-center">
      <Spinner label="Loading your dashboard…" />
    </div>
  );
}
