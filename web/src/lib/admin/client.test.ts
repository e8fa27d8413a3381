import { describe, expect, it, vi } from "vitest";
import { ApiError } from "../api/errors";
import { adminInit, createAdminClient } from "./client";
import { adminErrorMessage } from "./errors";

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

function calls(fetch: ReturnType<typeof vi.fn>): [string, RequestInit][] {
  return fetch.mock.calls as unknown as [string, RequestInit][];
}

function headersOf(init: RequestInit | undefined): Record<string, string> {
  return (init?.headers ?? {}) as Record<string, string>;
}

async function rejection(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    return e as ApiError;
  }
  throw new Error("the call succeeded");
}

describe("admin request headers", () => {
  it("declares every change as JSON, with or without a body, and sends the cookies same-origin only", () => {
    const put = adminInit({ method: "PUT", json: { plan: "pro" } });
    expect(put.method).toBe("PUT");
    expect(headersOf(put)["Content-Type"]).toBe("application/json");
    expect(put.body).toBe('{"plan":"pro"}');
    const suspend = adminInit({ method: "POST" });
    expect(headersOf(suspend)["Content-Type"]).toBe("application/json");
    expect(suspend.body).toBeUndefined();
    const get = adminInit({});
    expect(get.method).toBe("GET");
    expect(headersOf(get)["Content-Type"]).toBeUndefined();
    expect(get.credentials).toBe("same-origin");
    expect(headersOf(get)["X-Wasp-Mode"]).toBeUndefined();
  });
});

describe("admin client", () => {
  it("unwraps a page with its meta and builds the query", async () => {
    const fetch = vi.fn(async () => json(200, { success: true, data: [{ id: "a" }], meta: { total: 41, page: 3, per_page: 20 } }));
    const api = createAdminClient({ fetch });
    const page = await api.list<{ id: string }>("/api/admin/customers", { query: { q: "ac me", plan: "pro", status: undefined, page: 3, per_page: 20 } });
    expect(page.data).toEqual([{ id: "a" }]);
    expect(page.meta?.total).toBe(41);
    expect(calls(fetch)[0]![0]).toBe("/api/admin/customers?q=ac+me&plan=pro&page=3&per_page=20");
  });

  it("sends the operator to change their password on 403 PASSWORD_CHANGE_REQUIRED, and on nothing else", async () => {
    const onPasswordChangeRequired = vi.fn();
    const fetch = vi.fn(async (url: string) =>
      url.includes("servers")
        ? json(403, { success: false, error: { code: "PASSWORD_CHANGE_REQUIRED", message: "choose your own password first" } })
        : json(403, { success: false, error: { code: "FORBIDDEN", message: "super admins only" } }),
    );
    const api = createAdminClient({ fetch: fetch as unknown as typeof globalThis.fetch, onPasswordChangeRequired });
    const e = await rejection(api.get("/api/admin/servers"));
    expect(e.code).toBe("PASSWORD_CHANGE_REQUIRED");
    expect(onPasswordChangeRequired).toHaveBeenCalledTimes(1);
    await rejection(api.get("/api/admin/users"));
    expect(onPasswordChangeRequired).toHaveBeenCalledTimes(1);
  });

  it("sends PUT and DELETE with their methods", async () => {
    const fetch = vi.fn(async () => json(200, { success: true, data: { ok: true } }));
    const api = createAdminClient({ fetch });
    await api.put("/api/admin/servers/1", { status: "draining" });
    await api.del("/api/admin/servers/1");
    expect(calls(fetch).map(([, init]) => init.method)).toEqual(["PUT", "DELETE"]);
  });

  it("refuses paths outside /api/admin", async () => {
    const api = createAdminClient({ fetch: vi.fn() });
    await expect(api.get("/api/v1/chats")).rejects.toThrow(/only calls \/api\/admin/);
  });

  it("refreshes once through /api/admin/auth/refresh on a 401, shared by concurrent calls, then retries", async () => {
    let refreshed = false;
    const fetch = vi.fn(async (input: RequestInfo | URL) => {
      const url = String(input);
      if (url === "/api/admin/auth/refresh") {
        refreshed = true;
        return json(200, { success: true, data: {} });
      }
      return refreshed ? json(200, { success: true, data: url }) : json(401, { success: false, error: { code: "UNAUTHORIZED", message: "expired" } });
    });
    const onUnauthorized = vi.fn();
    const api = createAdminClient({ fetch, onUnauthorized });
    const [a, b] = await Promise.all([api.get("/api/admin/servers"), api.get("/api/admin/customers")]);
    expect(a).toBe("/api/admin/servers");
    expect(b).toBe("/api/admin/customers");
    const refreshes = calls(fetch).filter(([u]) => u === "/api/admin/auth/refresh");
    expect(refreshes).toHaveLength(1);
    expect(refreshes[0]![1].method).toBe("POST");
    expect(headersOf(refreshes[0]![1])["Content-Type"]).toBe("application/json");
    expect(onUnauthorized).not.toHaveBeenCalled();
  });

  it("signs the operator out when the refresh fails", async () => {
    const fetch = vi.fn(async () => json(401, { success: false, error: { code: "UNAUTHORIZED", message: "no" } }));
    const onUnauthorized = vi.fn();
    const api = createAdminClient({ fetch, onUnauthorized });
    const e = await rejection(api.get("/api/admin/auth/me"));
    expect(e.status).toBe(401);
    expect(onUnauthorized).toHaveBeenCalledOnce();
  });

  it("never refreshes on the sign-in's own 401 (wrong password, MFA code asked)", async () => {
    const fetch = vi.fn(async () => json(401, { success: false, error: { code: "MFA_REQUIRED", message: "code" } }));
    const onUnauthorized = vi.fn();
    const api = createAdminClient({ fetch, onUnauthorized });
    const e = await rejection(api.post("/api/admin/auth/login", { email: "a@b.c", password: "x" }));
    expect(e.code).toBe("MFA_REQUIRED");
    expect(fetch).toHaveBeenCalledOnce();
    expect(onUnauthorized).not.toHaveBeenCalled();
    expect(adminErrorMessage(e)).toMatch(/6-digit code/);
  });

  it("explains a lockout with its remaining time, and a refused role", async () => {
    const fetch = vi.fn(async () => json(429, { success: false, error: { code: "ACCOUNT_LOCKED", message: "locked", retry_after: 840 } }));
    const e = await rejection(createAdminClient({ fetch }).post("/api/admin/auth/login", {}));
    expect(e.status).toBe(429);
    expect(adminErrorMessage(e)).toMatch(/locked for 14 more minutes/);
    const forbidden = new ApiError(403, { code: "FORBIDDEN", message: "this action needs the admin role" });
    expect(adminErrorMessage(forbidden)).toBe("You are not allowed to do this: this action needs the admin role.");
    expect(adminErrorMessage(new ApiError(401, { code: "INVALID_CREDENTIALS", message: "x" }))).toMatch(/operator account/);
  });

  it("turns a network failure into NETWORK_ERROR", async () => {
    const fetch = vi.fn(async () => {
      throw new TypeError("Failed to fetch");
    });
    const e = await rejection(createAdminClient({ fetch }).get("/api/admin/servers"));
    expect(e.code).toBe("NETWORK_ERROR");
  });
});
