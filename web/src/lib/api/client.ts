// The dashboard's fetch wrapper: same-origin session cookies, the live/test mode header on
// the customer API, JSON bodies declared as JSON (the server's CSRF rule), one refresh of
// the session on 401, and the `{success, data | error}` envelope unwrapped into data or an
// ApiError.
import { ApiError, type ApiErrorBody } from "./errors";

export type Mode = "live" | "test";

export interface Page<T> {
  data: T;
  meta?: { total: number; limit?: number; offset?: number; page?: number; per_page?: number };
}

export interface RequestOptions {
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** A JSON body (sent as application/json). */
  json?: unknown;
  /** A multipart form (the browser writes the boundary). */
  form?: FormData;
  query?: Record<string, string | number | boolean | undefined | null>;
  /** Overrides the current mode for this call. */
  mode?: Mode;
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

export interface ClientConfig {
  fetch?: typeof fetch;
  /** The live/test switch; read at each call. */
  getMode: () => Mode;
  /** Called when the session cannot be refreshed (send the customer to /login). */
  onUnauthorized?: () => void;
  /** Origin for absolute URLs (tests); default: relative to the page. */
  baseUrl?: string;
}

const AUTH_PREFIX = "/api/customer/auth/";
/** Auth calls that must not trigger a refresh-and-retry on their own 401. */
const NO_REFRESH = ["login", "refresh", "logout", "signup", "forgot", "reset", "verify"].map((p) => AUTH_PREFIX + p);

export function buildUrl(base: string, path: string, query?: RequestOptions["query"]): string {
  let url = base + path;
  if (query) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v !== undefined && v !== null && v !== "") params.set(k, String(v));
    }
    const qs = params.toString();
    if (qs) url += (url.includes("?") ? "&" : "?") + qs;
  }
  return url;
}

/** The headers and body of a request, as the server's rules want them. */
export function buildInit(path: string, opts: RequestOptions, mode: Mode): RequestInit {
  const method = opts.method ?? (opts.json !== undefined || opts.form ? "POST" : "GET");
  const headers: Record<string, string> = { Accept: "application/json", ...opts.headers };
  if (path.startsWith("/api/v1/")) headers["X-Wasp-Mode"] = opts.mode ?? mode;
  let body: BodyInit | undefined;
  if (opts.form) {
    body = opts.form; // no Content-Type: fetch adds multipart/form-data with its boundary
  } else if (opts.json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(opts.json);
  } else if (method !== "GET") {
    // Every state-changing call is declared JSON, even without a body.
    headers["Content-Type"] = "application/json";
  }
  return { method, headers, body, credentials: "same-origin", signal: opts.signal, cache: "no-store" };
}

export function createClient(config: ClientConfig) {
  const doFetch = config.fetch ?? ((...args: Parameters<typeof fetch>) => fetch(...args));
  const base = config.baseUrl ?? "";
  let refreshing: Promise<boolean> | null = null;

  /** One refresh at a time, shared by every call that got a 401 meanwhile. */
  function refresh(): Promise<boolean> {
    if (!refreshing) {
      refreshing = doFetch(base + AUTH_PREFIX + "refresh", {
        method: "POST",
        headers: { Accept: "application/json", "Content-Type": "application/json" },
        credentials: "same-origin",
      })
        .then((r) => r.ok)
        .catch(() => false)
        .finally(() => {
          setTimeout(() => (refreshing = null), 0);
        });
    }
    return refreshing;
  }

  async function send(path: string, opts: RequestOptions): Promise<Response> {
    const url = buildUrl(base, path, opts.query);
    const attempt = () => doFetch(url, buildInit(path, opts, config.getMode()));
    let response: Response;
    try {
      response = await attempt();
      if (response.status === 401 && !NO_REFRESH.includes(path)) {
        if (await refresh()) {
          response = await attempt();
        }
        if (response.status === 401) config.onUnauthorized?.();
      }
    } catch (e) {
      if (e instanceof DOMException && e.name === "AbortError") throw e;
      throw new ApiError(0, { code: "NETWORK_ERROR", message: String(e) });
    }
    return response;
  }

  async function request<T>(path: string, opts: RequestOptions = {}): Promise<Page<T>> {
    const response = await send(path, opts);
    if (response.status === 204) return { data: undefined as T };
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      throw new ApiError(response.status, {
        code: response.ok ? "BAD_RESPONSE" : response.status >= 500 ? "INTERNAL_ERROR" : "BAD_RESPONSE",
        message: `HTTP ${response.status}`,
      });
    }
    return unwrap<T>(response.status, body);
  }

  return {
    request,
    /** The raw response (downloads, streams), after the same refresh rule. */
    raw: send,
    get: <T>(path: string, opts: Omit<RequestOptions, "method" | "json" | "form"> = {}) =>
      request<T>(path, { ...opts, method: "GET" }).then((p) => p.data),
    list: <T>(path: string, opts: Omit<RequestOptions, "method" | "json" | "form"> = {}) =>
      request<T[]>(path, { ...opts, method: "GET" }),
    post: <T>(path: string, json?: unknown, opts: Omit<RequestOptions, "method" | "json"> = {}) =>
      request<T>(path, { ...opts, method: "POST", json }).then((p) => p.data),
    patch: <T>(path: string, json: unknown, opts: Omit<RequestOptions, "method" | "json"> = {}) =>
      request<T>(path, { ...opts, method: "PATCH", json }).then((p) => p.data),
    del: <T>(path: string, opts: Omit<RequestOptions, "method" | "json"> = {}) =>
      request<T>(path, { ...opts, method: "DELETE" }).then((p) => p.data),
    upload: <T>(path: string, form: FormData, opts: Omit<RequestOptions, "method" | "form"> = {}) =>
      request<T>(path, { ...opts, method: "POST", form }).then((p) => p.data),
  };
}

export type Client = ReturnType<typeof createClient>;

/** The envelope's data, or its error as an ApiError. */
export function unwrap<T>(status: number, body: unknown): Page<T> {
  const envelope = body as { success?: boolean; data?: T; meta?: Page<T>["meta"]; error?: ApiErrorBody } | null;
  if (envelope && envelope.success === true) return { data: envelope.data as T, meta: envelope.meta };
  if (envelope && envelope.success === false && envelope.error && typeof envelope.error.code === "string") {
    throw new ApiError(status, envelope.error);
  }
  if (status >= 200 && status < 300) return { data: body as T };
  throw new ApiError(status, { code: status >= 500 ? "INTERNAL_ERROR" : "BAD_RESPONSE", message: `HTTP ${status}` });
}
