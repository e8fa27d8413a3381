import { describe, expect, it, vi } from "vitest";
import { buildInit, createClient, unwrap } from "./client";
import { ApiError, errorMessage, fieldError } from "./errors";

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

function rejection(p: Promise<unknown>): Promise<ApiError> {
  return p.then(
    () => {
      throw new Error("the call succeeded");
    },
    (e: ApiError) => e,
  );
}

function headersOf(init: RequestInit | undefined): Record<string, string> {
  return (init?.headers ?? {}) as Record<string, string>;
}

describe("request headers", () => {
  it("sends the mode header on the customer API only", () => {
    expect(headersOf(buildInit("/api/v1/app/status", {}, "test"))["X-Wasp-Mode"]).toBe("test");
    expect(headersOf(buildInit("/api/v1/app/status", { mode: "live" }, "test"))["X-Wasp-Mode"]).toBe("live");
    expect(headersOf(buildInit("/api/customer/auth/me", {}, "test"))["X-Wasp-Mode"]).toBeUndefined();
  });

  it("declares every state-changing call as JSON, and leaves multipart to the browser", () => {
    const post = buildInit("/api/v1/send/message", { method: "POST", json: { a: 1 } }, "test");
    expect(headersOf(post)["Content-Type"]).toBe("application/json");
    expect(post.body).toBe('{"a":1}');
    const empty = buildInit("/api/customer/auth/logout", { method: "POST" }, "test");
    expect(headersOf(empty)["Content-Type"]).toBe("application/json");
    const form = new FormData();
    form.set("phone", "1");
    const upload = buildInit("/api/v1/send/image", { method: "POST", form }, "test");
    expect(headersOf(upload)["Content-Type"]).toBeUndefined();
    expect(upload.body).toBe(form);
    const get = buildInit("/api/v1/chats", {}, "test");
    expect(headersOf(get)["Content-Type"]).toBeUndefined();
  });

  it("sends the session cookie, never across origins", () => {
    expect(buildInit("/api/v1/chats", {}, "live").credentials).toBe("same-origin");
  });
});

describe("client", () => {
  it("unwraps data and meta", async () => {
    const fetch = vi.fn(async () => json(200, { success: true, data: [1, 2], meta: { total: 2, limit: 25, offset: 0 } }));
    const api = createClient({ fetch, getMode: () => "test" });
    const page = await api.list<number>("/api/v1/chats", { query: { search: "bu di", limit: 25, archived: undefined } });
    expect(page.data).toEqual([1, 2]);
    expect(page.meta?.total).toBe(2);
    const calls = fetch.mock.calls as unknown as [string, RequestInit][];
    expect(calls[0]![0]).toBe("/api/v1/chats?search=bu+di&limit=25");
  });

  it("maps the error envelope to an ApiError with its field", async () => {
    const fetch = vi.fn(async () =>
      json(400, {
        success: false,
        error: { code: "VALIDATION_ERROR", message: "phone: must be a phone number in international format", field: "phone" },
      }),
    );
    const api = createClient({ fetch, getMode: () => "test" });
    const error = await rejection(api.post("/api/v1/send/message", { phone: "0" }));
    expect(error).toBeInstanceOf(ApiError);
    expect(error.code).toBe("VALIDATION_ERROR");
    expect(error.field).toBe("phone");
    expect(fieldError(error, "phone")).toBe("Must be a phone number in international format");
    expect(fieldError(error, "message")).toBeUndefined();
  });

  it("refreshes the session once on 401 and retries", async () => {
    const answers = [
      json(401, { success: false, error: { code: "UNAUTHORIZED", message: "expired" } }),
      json(200, { success: true, data: {} }), // refresh
      json(200, { success: true, data: { state: "connected" } }),
    ];
    const fetch = vi.fn(async () => answers.shift()!);
    const onUnauthorized = vi.fn();
    const api = createClient({ fetch, getMode: () => "test", onUnauthorized });
    const status = await api.get<{ state: string }>("/api/v1/app/status");
    expect(status.state).toBe("connected");
    const calls = fetch.mock.calls as unknown as [string, RequestInit][];
    expect(calls.map((c) => c[0])).toEqual(["/api/v1/app/status", "/api/customer/auth/refresh", "/api/v1/app/status"]);
    expect(calls[1]![1].method).toBe("POST");
    expect(onUnauthorized).not.toHaveBeenCalled();
  });

  it("sends the customer to sign in when the refresh fails", async () => {
    const answers = [
      json(401, { success: false, error: { code: "UNAUTHORIZED", message: "expired" } }),
      json(401, { success: false, error: { code: "UNAUTHORIZED", message: "expired" } }),
    ];
    const fetch = vi.fn(async () => answers.shift()!);
    const onUnauthorized = vi.fn();
    const api = createClient({ fetch, getMode: () => "test", onUnauthorized });
    await expect(api.get("/api/v1/chats")).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    expect(fetch).toHaveBeenCalledTimes(2);
    expect(onUnauthorized).toHaveBeenCalledOnce();
  });

  it("does not refresh on a failed sign-in", async () => {
    const fetch = vi.fn(async () => json(401, { success: false, error: { code: "INVALID_CREDENTIALS", message: "no" } }));
    const onUnauthorized = vi.fn();
    const api = createClient({ fetch, getMode: () => "test", onUnauthorized });
    const error = await rejection(api.post("/api/customer/auth/login", { email: "a@b.c", password: "x" }));
    expect(errorMessage(error)).toBe("That e-mail and password do not match an account.");
    expect(fetch).toHaveBeenCalledOnce();
    expect(onUnauthorized).not.toHaveBeenCalled();
  });

  it("turns a network failure and a non-JSON answer into sentences", async () => {
    const offline = createClient({ fetch: vi.fn(async () => Promise.reject(new TypeError("Failed to fetch"))), getMode: () => "test" });
    const e1 = await rejection(offline.get("/api/v1/chats"));
    expect(e1.code).toBe("NETWORK_ERROR");
    expect(errorMessage(e1)).toMatch(/could not reach the server/);
    const proxy = createClient({ fetch: vi.fn(async () => new Response("<html>bad gateway</html>", { status: 502 })), getMode: () => "test" });
    const e2 = await rejection(proxy.get("/api/v1/chats"));
    expect(e2.status).toBe(502);
    expect(errorMessage(e2)).toMatch(/Something went wrong/);
  });
});

describe("error sentences", () => {
  it("explains codes in words, with the wait of a rate limit", () => {
    expect(errorMessage(new ApiError(409, { code: "SESSION_NOT_CONNECTED", message: "x" }))).toMatch(/not connected/);
    expect(errorMessage(new ApiError(429, { code: "RATE_LIMIT_EXCEEDED", message: "x", retry_after: 7 }))).toMatch(/retry in 7 s/);
    expect(errorMessage(new ApiError(403, { code: "EMAIL_NOT_VERIFIED", message: "x" }))).toMatch(/Confirm your e-mail/);
    expect(errorMessage(new ApiError(418, { code: "SOMETHING_NEW", message: "the server's words" }))).toBe("the server's words");
  });

  it("unwrap accepts a bare 2xx body", () => {
    expect(unwrap(200, { a: 1 }).data).toEqual({ a: 1 });
    expect(() => unwrap(500, null)).toThrow(ApiError);
  });
});
