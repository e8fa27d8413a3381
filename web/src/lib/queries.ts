"use client";
// Queries of the customer API, keyed by the live/test mode they were read in.
import { useQuery, type UseQueryOptions } from "@tanstack/react-query";
import { api } from "./api/provider";
import { useMode } from "./mode";
import type { Mode } from "./api/client";
import type { SessionStatus } from "./api/types";

export function useModeQuery<T>(
  key: readonly unknown[],
  path: string | null,
  opts: Omit<UseQueryOptions<T, Error, T, readonly unknown[]>, "queryKey" | "queryFn"> & { query?: Record<string, string | number | boolean | undefined> } = {},
) {
  const { mode } = useMode();
  const { query, ...rest } = opts;
  return useQuery<T, Error, T, readonly unknown[]>({
    queryKey: [mode, ...key, query ?? null],
    queryFn: ({ signal }) => api.get<T>(path!, { query, signal, mode }),
    enabled: path !== null && (rest.enabled ?? true),
    ...rest,
  });
}

/** The session's status in a mode (default: the current one), polled while it changes. */
export function useSessionStatus(forMode?: Mode, fast = false, enabled = true) {
  const { mode } = useMode();
  const m = forMode ?? mode;
  return useQuery<SessionStatus, Error>({
    queryKey: [m, "status"],
    enabled,
    queryFn: ({ signal }) => api.get<SessionStatus>("/api/v1/app/status", { signal, mode: m }),
    refetchInterval: (q) => {
      const s = q.state.data?.state;
      if (s === "scanning" || s === "pairing") return 2_000;
      return fast ? 3_000 : 10_000;
    },
  });
}

export const STATE_LABELS: Record<string, string> = {
  disconnected: "Disconnected",
  scanning: "Waiting for scan",
  pairing: "Waiting for pair code",
  connected: "Connected",
  logged_out: "Logged out",
};

export const REASON_LABELS: Record<string, string> = {
  connection_lost: "The connection dropped; it comes back by itself.",
  login_timeout: "The QR code was not scanned, or the pair code not entered, in time.",
  worker_stopped: "The server holding the session let it go; it reconnects when the server is back.",
  pairing_failed: "WhatsApp refused the pairing.",
  replaced_by_another_client: "Another client took over the connection.",
  temporarily_banned: "WhatsApp temporarily banned this number.",
  account_locked: "WhatsApp locked this account.",
  client_outdated: "WhatsApp refused the connection: the client is outdated.",
  connect_failure: "WhatsApp refused the connection.",
  logged_out_from_phone: "The device was removed on the phone.",
  logged_out: "The session was logged out.",
};
