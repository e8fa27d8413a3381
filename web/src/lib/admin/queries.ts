"use client";
// Queries of the admin API, keyed under "admin" so sign-out clears them together.
import { useQuery, type UseQueryOptions } from "@tanstack/react-query";
import { adminApi } from "./api";
import type { Page } from "./client";

type Query = Record<string, string | number | boolean | undefined>;
type Opts<T> = Omit<UseQueryOptions<T, Error, T, readonly unknown[]>, "queryKey" | "queryFn"> & { query?: Query };

/** One answer's data. */
export function useAdminQuery<T>(key: readonly unknown[], path: string | null, opts: Opts<T> = {}) {
  const { query, ...rest } = opts;
  return useQuery<T, Error, T, readonly unknown[]>({
    queryKey: ["admin", ...key, query ?? null],
    queryFn: ({ signal }) => adminApi.get<T>(path!, { query, signal }),
    ...rest,
    enabled: path !== null && (rest.enabled ?? true),
  });
}

/** A page of a list, with its meta. */
export function useAdminList<T>(key: readonly unknown[], path: string | null, opts: Opts<Page<T[]>> = {}) {
  const { query, ...rest } = opts;
  return useQuery<Page<T[]>, Error, Page<T[]>, readonly unknown[]>({
    queryKey: ["admin", ...key, query ?? null],
    queryFn: ({ signal }) => adminApi.list<T>(path!, { query, signal }),
    ...rest,
    enabled: path !== null && (rest.enabled ?? true),
  });
}
