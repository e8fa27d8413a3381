"use client";
// The admin panel's client instance and the signed-in operator.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { createAdminClient, type AdminClient } from "./client";
import type { OperatorInfo } from "./types";

export const ADMIN_LOGIN = "/admin/login";
export const ADMIN_CHANGE_PASSWORD = "/admin/change-password";

/** Sign-in, then back to where the operator was. */
export function adminLoginUrl(): string {
  const here = window.location.pathname + window.location.search;
  const next = here.startsWith(ADMIN_LOGIN) || here === "/admin" || here === "/admin/" ? "" : `?next=${encodeURIComponent(here)}`;
  return `${ADMIN_LOGIN}${next}`;
}

/** The forced password change, then back to where the operator was. */
export function adminChangePasswordUrl(): string {
  const here = window.location.pathname + window.location.search;
  const next = here.startsWith(ADMIN_CHANGE_PASSWORD) || here.startsWith(ADMIN_LOGIN) || here === "/admin" || here === "/admin/" ? "" : `?next=${encodeURIComponent(here)}`;
  return `${ADMIN_CHANGE_PASSWORD}${next}`;
}

export const adminApi: AdminClient = createAdminClient({
  onUnauthorized: () => {
    if (typeof window !== "undefined" && !window.location.pathname.startsWith(ADMIN_LOGIN)) {
      window.location.assign(adminLoginUrl());
    }
  },
  onPasswordChangeRequired: () => {
    if (typeof window !== "undefined" && !window.location.pathname.startsWith(ADMIN_CHANGE_PASSWORD) && !window.location.pathname.startsWith(ADMIN_LOGIN)) {
      window.location.assign(adminChangePasswordUrl());
    }
  },
});

export const OPERATOR_KEY = ["admin", "me"] as const;

/** The signed-in operator (GET /api/admin/auth/me). */
export function useOperator() {
  return useQuery({
    queryKey: OPERATOR_KEY,
    queryFn: ({ signal }) => adminApi.get<OperatorInfo>("/api/admin/auth/me", { signal }),
    staleTime: 60_000,
    retry: false,
  });
}

export function useSetOperator() {
  const qc = useQueryClient();
  return (info: OperatorInfo | null) => {
    if (info) qc.setQueryData(OPERATOR_KEY, info);
    else qc.removeQueries({ queryKey: ["admin"] });
  };
}
