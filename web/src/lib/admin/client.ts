// The admin panel's fetch wrapper: the operator's session cookies (wasp_admin, and
// wasp_admin_refresh on /api/admin/auth), JSON bodies declared as JSON (the server's CSRF
// rule), one shared refresh through POST /api/admin/auth/refresh on a 401, and the
// `{success, data | error}` envelope unwrapped. Only /api/admin/* is called from here; the
// customer dashboard keeps its own client (src/lib/api/client.ts).
import { buildUrl, unwrap, type Page } from "../api/client";
import { ApiError } from "../api/errors";

export type { Page };

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface AdminRequestOptions {
  method?: Method;
  /** A JSON body (sent as application/json). */
  json?: unknown;
  query?: Record<string, string | number | boolean | undefined | null>;
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

export interface AdminClientConfig {
  fetch?: typeof fetch;
  /** Called when the session is gone and cannot be refreshed (send the operator to sign in). */
  onUnauthorized?: () => void;
  /** Called on `403 PASSWORD_CHANGE_REQUIRED` (send the operator to choose their own password). */
  onPasswordChangeRequired?: () => void;
  /** Origin for absolute URLs (tests); default: relative to the page. */
  baseUrl?: string;
}

export const ADMIN_AUTH = "/api/admin/auth/";
/** Calls whose own 401 means "wrong credentials or code", never "refresh and retry". */
const NO_REFRESH = ["login", "refresh", "logout"].map((p) => ADMIN_AUTH + p);

/** The headers and body of an operator's request. */
export function adminInit(opts: AdminRequestOptions): RequestInit {
  const method = opts.method ?? (opts.json !== undefined ? "POST" : "GET");
  const headers: Record<string, string> = { Accept: "application/json", ...opts.headers };
  let body: BodyInit | undefined;
  if (opts.json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(opts.json);
  } else if (method !== "GET") {
    // Every state-changing call is declared JSON, even without a body (CSRF rule).
    headers["Content-Type"] = "application/json";
  }
  return { method, headers, body, credentials: "same-origin", signal: opts.signal, cache: "no-store" };
}

export function createAdminClient(config: AdminClientConfig = {}) {
  const doFetch = config.fetch ?? ((...args: Parameters<typeof fetch>) => fetch(...args));
  const base = config.baseUrl ?? "";
  let refreshing: Promise<boolean> | null = null;

  /** One refresh at a time, shared by every call that got a 401 meanwhile. */
  function refresh(): Promise<boolean> {
    if (!refreshing) {
      refreshing = doFetch(base + ADMIN_AUTH + "refresh", adminInit({ method: "POST" }))
        .then((r) => r.ok)
        .catch(() => false)
        .finally(() => {
          setTimeout(() => (refreshing = null), 0);
        });
    }
    return refreshing;
  }

  async function send(path: string, opts: AdminRequestOptions): Promise<Response> {
    if (!path.startsWith("/api/admin/")) throw new Error(`the admin client only calls /api/admin/*, not ${path}`);
    const url = buildUrl(base, path, opts.query);
    const attempt = () => doFetch(url, adminInit(opts));
    let response: Response;
    try {
      response = await attempt();
      if (response.status === 401 && !NO_REFRESH.includes(path)) {
        if (await refresh()) response = await attempt();
        if (response.status === 401) config.onUnauthorized?.();
      }
    } catch (e) {
      if (e instanceof DOMException && e.name === "AbortError") throw e;
      throw new ApiError(0, { code: "NETWORK_ERROR", message: String(e) });
    }
    return response;
  }

  async function request<T>(path: string, opts: AdminRequestOptions = {}): Promise<Page<T>> {
    const response = await send(path, opts);
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      throw new ApiError(response.status, {
        code: response.status >= 500 ? "INTERNAL_ERROR" : "BAD_RESPONSE",
        message: `HTTP ${response.status}`,
      });
    }
    try {
      return unwrap<T>(response.status, body);
    } catch (e) {
      if (e instanceof ApiError && e.code === "PASSWORD_CHANGE_REQUIRED") config.onPasswordChangeRequired?.();
      throw e;
    }
  }

  type Read = Omit<AdminRequestOptions, "method" | "json">;
  return {
    request,
    get: <T>(path: string, opts: Read = {}) => request<T>(path, { ...opts, method: "GET" }).then((p) => p.data),
    /** A page of a list, with its meta (total, page, per_page). */
    list: <T>(path: string, opts: Read = {}) => request<T[]>(path, { ...opts, method: "GET" }),
    post: <T>(path: string, json?: unknown, opts: Read = {}) => request<T>(path, { ...opts, method: "POST", json }).then((p) => p.data),
    put: <T>(path: string, json: unknown, opts: Read = {}) => request<T>(path, { ...opts, method: "PUT", json }).then((p) => p.data),
    del: <T>(path: string, opts: Read = {}) => request<T>(path, { ...opts, method: "DELETE" }).then((p) => p.data),
  };
}

export type AdminClient = ReturnType<typeof createAdminClient>;
