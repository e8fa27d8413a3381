import { describe, expect, it } from "vitest";
import { hasRole, safeAdminNext } from "./roles";
import {
  adminLoginSchema,
  customerQuery,
  customerSchema,
  emptyServer,
  isIpAddress,
  logFilterSchema,
  logQuery,
  operatorSchema,
  pageCount,
  pageParams,
  serverSchema,
  serverValues,
  toCreateCustomer,
  toCreateOperator,
  toCreateServer,
  toUpdateServer,
  totpSchema,
} from "./schemas";
import { listenAddress, workerCommand } from "./worker";

const firstError = (r: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } }) =>
  r.success ? undefined : r.error!.issues.map((i) => `${i.path.join(".")}: ${i.message}`);

describe("sign-in", () => {
  it("wants an e-mail and a password", () => {
    expect(adminLoginSchema.safeParse({ email: "op@example.com", password: "x" }).success).toBe(true);
    expect(firstError(adminLoginSchema.safeParse({ email: "op", password: "" }))).toEqual([
      "email: Enter a valid e-mail address",
      "password: Enter your password",
    ]);
  });

  it("takes a 6-digit code, spaces ignored", () => {
    expect(totpSchema.parse({ code: "123 456" }).code).toBe("123456");
    expect(totpSchema.safeParse({ code: "12345" }).success).toBe(false);
    expect(totpSchema.safeParse({ code: "abcdef" }).success).toBe(false);
  });
});

describe("servers", () => {
  const valid = { ...emptyServer, name: "worker-sg-1", ip_address: "10.0.1.21", cpu_cores: "4", ram_gb: "8" };

  it("accepts a server and builds the API's body", () => {
    expect(serverSchema.safeParse(valid).success).toBe(true);
    expect(toCreateServer({ ...valid, cost_per_month: "40.50", region: " ap " })).toEqual({
      name: "worker-sg-1",
      ip_address: "10.0.1.21",
      api_url: undefined,
      max_capacity: 100,
      cpu_cores: 4,
      ram_gb: 8,
      disk_gb: undefined,
      region: "ap",
      datacenter: undefined,
      provider: undefined,
      cost_per_month: 40.5,
    });
  });

  it("checks addresses, URLs and ranges as the API does", () => {
    expect(isIpAddress("192.168.1.10")).toBe(true);
    expect(isIpAddress("2001:db8::1")).toBe(true);
    expect(isIpAddress("256.1.1.1")).toBe(false);
    expect(isIpAddress("example.com")).toBe(false);
    const bad = serverSchema.safeParse({ ...valid, ip_address: "x", api_url: "ftp://a", cpu_cores: "0", cost_per_month: "-1", name: " " });
    expect(firstError(bad)).toEqual([
      "name: Name the server (e.g. worker-sg-1)",
      "ip_address: Enter an IPv4 or IPv6 address (e.g. 10.0.1.21)",
      "api_url: Enter an http(s) URL such as http://10.0.1.21:8081",
      "cpu_cores: CPU cores: a whole number from 1 to 4,096",
      "cost_per_month: Cost: an amount from 0 to 99,999,999.99",
    ]);
  });

  it("edits a server with its status, round-tripping its values", () => {
    const server = { name: "a", ip_address: "10.0.0.1", api_url: "http://10.0.0.1:8081", max_capacity: 5, cpu_cores: 2, ram_gb: 4, disk_gb: null, status: "draining", cost_per_month: 12 };
    const values = serverValues(server);
    expect(values.disk_gb).toBe("");
    expect(values.status).toBe("draining");
    expect(toUpdateServer(values)).toMatchObject({ status: "draining", max_capacity: 5, cost_per_month: 12, disk_gb: undefined });
    expect(serverValues({ ...server, status: "initializing" }).status).toBeUndefined();
  });

  it("writes the worker's start command with the real settings", () => {
    const cmd = workerCommand({ managementUrl: "https://wasp.example.com/", serverKey: "ak_server_abc", apiUrl: "http://10.0.1.21:9000" });
    expect(cmd).toContain("export WASP_MANAGEMENT_URL=https://wasp.example.com\n");
    expect(cmd).toContain("export WASP_SERVER_KEY=ak_server_abc\n");
    expect(cmd).toContain("export WASP_DATABASE_URL=");
    expect(cmd).toContain("export WASP_HTTP_ADDR=0.0.0.0:9000");
    expect(cmd.endsWith("wasp worker")).toBe(true);
    expect(listenAddress("http://10.0.1.21")).toBe("0.0.0.0:80");
    expect(listenAddress("nonsense")).toBe("0.0.0.0:8081");
  });
});

describe("customers", () => {
  it("creates with a plan and a placement", () => {
    const v = { email: " dev@example.com ", full_name: "", company_name: "Acme", plan: "pro" as const, assign_server: "auto", region: "eu" };
    expect(customerSchema.safeParse(v).success).toBe(true);
    expect(toCreateCustomer(v)).toEqual({ email: "dev@example.com", full_name: undefined, company_name: "Acme", plan: "pro", assign_server: "auto", region: "eu" });
    expect(toCreateCustomer({ ...v, assign_server: "none" }).region).toBeUndefined();
    expect(customerSchema.safeParse({ ...v, assign_server: "server-1" }).success).toBe(false);
    expect(customerSchema.safeParse({ ...v, plan: "gold" }).success).toBe(false);
  });

  it("keeps pages within what the API accepts (page ≥ 1, per_page 1–100)", () => {
    expect(pageParams(0, 500)).toEqual({ page: 1, per_page: 100 });
    expect(pageParams("-3", "0")).toEqual({ page: 1, per_page: 20 });
    expect(pageParams("2.7", "abc")).toEqual({ page: 2, per_page: 20 });
    expect(pageCount(0, 20)).toBe(1);
    expect(pageCount(41, 20)).toBe(3);
    expect(customerQuery({ q: "  ", plan: "pro", server_id: "not-a-uuid", page: "2" })).toEqual({
      q: undefined,
      plan: "pro",
      status: undefined,
      server_id: undefined,
      page: 2,
      per_page: 20,
    });
  });

  it("filters customers by a WhatsApp state the API knows", () => {
    expect(customerQuery({ whatsapp_status: "connected" }).whatsapp_status).toBe("connected");
    expect(customerQuery({ whatsapp_status: "logged_out" }).whatsapp_status).toBe("logged_out");
    expect(customerQuery({ whatsapp_status: "online" }).whatsapp_status).toBeUndefined();
  });
});

describe("operators", () => {
  it("generates the password when none is given, else wants 12 characters", () => {
    const v = { email: "ops@example.com", full_name: "", role: "viewer" as const, password: "" };
    expect(operatorSchema.safeParse(v).success).toBe(true);
    expect(toCreateOperator(v)).toEqual({ email: "ops@example.com", full_name: undefined, role: "viewer", password: undefined });
    expect(operatorSchema.safeParse({ ...v, password: "short" }).success).toBe(false);
    expect(operatorSchema.safeParse({ ...v, role: "root" }).success).toBe(false);
  });

  it("ranks roles and follows only admin paths after sign-in", () => {
    expect(hasRole("super_admin", "admin")).toBe(true);
    expect(hasRole("viewer", "admin")).toBe(false);
    expect(hasRole(undefined, "viewer")).toBe(false);
    expect(safeAdminNext("/admin/customers?plan=pro")).toBe("/admin/customers?plan=pro");
    expect(safeAdminNext("/admin/login")).toBe("/admin");
    expect(safeAdminNext("/admin/change-password?next=/admin/logs")).toBe("/admin");
    expect(safeAdminNext("//evil.example")).toBe("/admin");
    expect(safeAdminNext("/administrator")).toBe("/admin");
    expect(safeAdminNext("/api-keys")).toBe("/admin");
    expect(safeAdminNext(null)).toBe("/admin");
  });
});

describe("log filters", () => {
  it("sends every filter that has a value, times in UTC", () => {
    const q = logQuery({ event_type: "api_call", request_id: " req-1 ", actor_type: "", from: "2026-01-02T03:04" }, 2, 50);
    expect(q).toMatchObject({ event_type: "api_call", request_id: "req-1", page: 2, per_page: 50 });
    expect(q.actor_type).toBeUndefined();
    expect(q.from).toBe(new Date("2026-01-02T03:04").toISOString());
  });

  it("finds everything about a customer by its id", () => {
    expect(logQuery({ customer_id: " 0192f2c4-8f3b-7d4e-9a1b-2c3d4e5f6a7b " })).toMatchObject({ customer_id: "0192f2c4-8f3b-7d4e-9a1b-2c3d4e5f6a7b" });
    expect(logFilterSchema.safeParse({ customer_id: "acme" }).success).toBe(false);
  });

  it("checks ids and the time range", () => {
    expect(logFilterSchema.safeParse({ actor_id: "x" }).success).toBe(false);
    expect(logFilterSchema.safeParse({ actor_id: "0192f2c4-8f3b-7d4e-9a1b-2c3d4e5f6a7b" }).success).toBe(true);
    expect(firstError(logFilterSchema.safeParse({ from: "2026-01-02T00:00", to: "2026-01-01T00:00" }))).toEqual(["to: “Until” must be after “From”"]);
  });
});
