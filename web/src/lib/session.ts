"use client";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "./api/provider";
import type { SessionInfo } from "./api/types";

export const SESSION_KEY = ["customer-session"] as const;

/** The signed-in customer (GET /api/customer/auth/me). */
export function useSession() {
  return useQuery({
    queryKey: SESSION_KEY,
    queryFn: () => api.get<SessionInfo>("/api/customer/auth/me"),
    staleTime: 60_000,
    retry: false,
  });
}

export function useSetSession() {
  const qc = useQueryClient();
  return (info: SessionInfo | null) => {
    if (info) qc.setQueryData(SESSION_KEY, info);
    else qc.removeQueries();
  };
}

/** Only same-site paths are followed after sign-in. */
export function safeNext(next: string | null | undefined): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return "/";
  return next;
}
