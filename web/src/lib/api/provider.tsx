"use client";
import * as React from "react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { createClient, type Client } from "./client";
import { ApiError } from "./errors";
import { modeRef } from "../mode";

/** Where the customer goes when the session is gone: sign in, then back here. */
export function loginUrl(): string {
  const here = window.location.pathname + window.location.search;
  const next = here === "/" || here.startsWith("/login") ? "" : `?next=${encodeURIComponent(here)}`;
  return `/login${next}`;
}

export const api: Client = createClient({
  getMode: () => modeRef.current,
  onUnauthorized: () => {
    if (typeof window !== "undefined" && !isAuthPage(window.location.pathname)) {
      window.location.assign(loginUrl());
    }
  },
});

const AUTH_PAGES = ["/login", "/register", "/forgot-password", "/reset-password", "/verify-email"];
export function isAuthPage(path: string): boolean {
  return AUTH_PAGES.some((p) => path === p || path.startsWith(p + "/") || path.startsWith(p + "."));
}

export function QueryProvider({ children }: { children: React.ReactNode }) {
  const [client] = React.useState(
    () =>
      new QueryClient({
        defaultOptions: {
          queries: {
            staleTime: 5_000,
            refetchOnWindowFocus: true,
            retry: (count, error) => {
              if (error instanceof ApiError && error.status > 0 && error.status < 500) return false;
              return count < 2;
            },
          },
          mutations: { retry: false },
        },
      }),
  );
  return <QueryClientProvider client={client}>{children}</QueryClientProvider>;
}
