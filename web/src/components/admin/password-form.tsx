"use client";
import * as React from "react";
import { useQueryClient } from "@tanstack/react-query";
import { PasswordForm } from "@/components/change-password-form";
import { AdminFormError } from "@/components/admin/states";
import { OPERATOR_KEY, adminApi } from "@/lib/admin/api";

/** An operator's password change (POST /api/admin/auth/password); it clears a temporary password's flag. */
export function AdminPasswordForm({ onDone, submitLabel, buttonClassName }: { onDone?: () => void; submitLabel?: string; buttonClassName?: string }) {
  const qc = useQueryClient();
  return (
    <PasswordForm
      submitLabel={submitLabel}
      onDone={onDone}
      buttonClassName={buttonClassName}
      doneText="Your password was changed. Your other sessions were signed out."
      ErrorView={AdminFormError}
      submit={async (current_password, new_password) => {
        await adminApi.post("/api/admin/auth/password", { current_password, new_password });
        await qc.invalidateQueries({ queryKey: OPERATOR_KEY });
      }}
    />
  );
}
