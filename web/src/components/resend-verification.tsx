"use client";
import * as React from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Button, type ButtonProps } from "@/components/ui/button";
import { api } from "@/lib/api/provider";
import { errorMessage } from "@/lib/api/errors";
import { SESSION_KEY } from "@/lib/session";

interface Resent {
  sent: boolean;
  email_verified: boolean;
}

/** "Resend verification e-mail" for a customer whose address is not confirmed yet. */
export function ResendVerification({ email, ...props }: { email: string } & ButtonProps) {
  const qc = useQueryClient();
  const resend = useMutation({
    mutationFn: () => api.post<Resent>("/api/customer/auth/verify/resend"),
    onSuccess: (r) => {
      // Confirmed meanwhile (another tab, the link): show it.
      if (r.email_verified) void qc.invalidateQueries({ queryKey: SESSION_KEY });
    },
  });
  const status = resend.isSuccess
    ? resend.data.sent
      ? `A new link is on its way to ${email}.`
      : "Your e-mail address is confirmed already."
    : resend.isError
      ? errorMessage(resend.error)
      : null;
  return (
    <span className="inline-flex flex-wrap items-center gap-2">
      <Button type="button" variant="outline" size="sm" onClick={() => resend.mutate()} disabled={resend.isPending} {...props}>
        {resend.isPending ? "Sending…" : "Resend verification e-mail"}
      </Button>
      {status ? (
        <span role={resend.isError ? "alert" : "status"} className={resend.isError ? "text-xs text-destructive" : "text-xs text-muted-foreground"}>
          {status}
        </span>
      ) : null}
    </span>
  );
}
