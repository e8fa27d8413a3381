"use client";
import * as React from "react";
import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { AuthCard } from "@/components/auth-card";
import { Spinner } from "@/components/states";
import { Alert } from "@/components/ui/alert";
import { buttonVariants } from "@/components/ui/button";
import { api } from "@/lib/api/provider";
import { errorMessage } from "@/lib/api/errors";

function Verify() {
  const token = useSearchParams().get("token");
  const [state, setState] = React.useState<{ status: "working" | "done" | "failed"; error?: unknown }>({ status: "working" });
  const started = React.useRef(false);

  React.useEffect(() => {
    if (!token || started.current) return;
    started.current = true; // a token works once: never post it twice (strict mode)
    api
      .post("/api/customer/auth/verify", { token })
      .then(() => setState({ status: "done" }))
      .catch((error) => setState({ status: "failed", error }));
  }, [token]);

  if (!token) {
    return (
      <AuthCard title="Confirm your e-mail">
        <Alert variant="destructive">This link is incomplete. Open the link from the e-mail again.</Alert>
      </AuthCard>
    );
  }
  return (
    <AuthCard title="Confirm your e-mail">
      {state.status === "working" ? <Spinner label="Confirming your e-mail address…" /> : null}
      {state.status === "done" ? (
        <div className="grid gap-4">
          <Alert variant="success">Your e-mail address is confirmed.</Alert>
          <Link href="/login" className={buttonVariants()}>
            Sign in
          </Link>
        </div>
      ) : null}
      {state.status === "failed" ? (
        <div className="grid gap-4">
          <Alert variant="destructive">{errorMessage(state.error)}</Alert>
          <Link href="/login" className={buttonVariants({ variant: "outline" })}>
            Back to sign in
          </Link>
        </div>
      ) : null}
    </AuthCard>
  );
}

export default function VerifyEmailPage() {
  return (
    <React.Suspense>
      <Verify />
    </React.Suspense>
  );
}
