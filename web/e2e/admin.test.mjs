// The admin panel in a real browser against the real binary (npm run e2e): an operator
// runs the fleet, a second operator signs in with MFA, and a viewer changes nothing.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { ADMIN_EMAIL, ADMIN_PASSWORD, adminToken, launchBrowser, newPage, shoot, startWasp, unexpected } from "./support.mjs";

let wasp;
let browser;
let token;
/** What the walkthrough leaves for the viewer's test. */
const fleet = { customerId: "", serverId: "" };

before(async () => {
  wasp = await startWasp();
  browser = await launchBrowser();
  token = await adminToken(wasp.base);
});

after(async () => {
  await browser?.close();
  await wasp?.stop();
});

/** RFC 6238 TOTP (SHA-1, 30 s, 6 digits) of a base32 secret. */
function totp(secret, at = Date.now()) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of secret.replace(/=+$/, "").toUpperCase()) {
    const v = alphabet.indexOf(c);
    if (v < 0) throw new Error(`not base32: ${c}`);
    bits += v.toString(2).padStart(5, "0");
  }
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const mac = createHmac("sha1", key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  const code = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(code).padStart(6, "0");
}

/** A code that stays valid for the next few seconds (waits out the end of a period). */
async function freshTotp(secret) {
  const left = 30_000 - (Date.now() % 30_000);
  if (left < 4_000) await new Promise((r) => setTimeout(r, left + 200));
  return totp(secret);
}

/** Screenshots at both widths, and the phone page never scrolls sideways. */
async function snap(page, name) {
  await shoot(page, name);
  await page.setViewportSize({ width: 390, height: 844 });
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  await page.setViewportSize({ width: 1280, height: 800 });
  assert.ok(wide <= 390, `${name}: the phone page scrolls sideways (${wide} px)`);
}

/** Repeats `check` (reloading the page between tries, then `prepare`) until it passes. */
async function eventually(page, check, { timeout = 20_000, prepare } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await page.waitForTimeout(500);
      await page.reload();
      if (prepare) await prepare();
    }
  }
}

async function signIn(page, email, password) {
  await page.goto("/admin/login");
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** On the forced password change: the temporary password, then one of their own. */
async function choosePassword(page, current, next) {
  await page.waitForURL(/\/admin\/change-password/, { waitUntil: "commit" });
  await page.getByLabel("Current password").fill(current);
  await page.getByLabel("New password", { exact: true }).fill(next);
  await page.getByLabel("Repeat the new password").fill(next);
  await page.getByRole("button", { name: "Save and continue" }).click();
}

async function api(path, { method = "GET", body, key } = {}) {
  const headers = key ? { "x-api-key": key } : { authorization: `Bearer ${token}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const r = await fetch(`${wasp.base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: r.status, headers: r.headers, body: await r.json() };
}

test("an operator signs in, adds a server, creates a customer, changes and suspends it, and follows its usage and requests", async () => {
  const { page, problems } = await newPage(browser, wasp.base);
  const failed = [];
  page.on("response", (r) => r.status() >= 404 && failed.push(`${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`));

  // A signed-out visitor is sent to the sign-in page; a wrong password is explained.
  await page.goto("/admin/customers");
  await page.getByRole("heading", { name: "Operator sign-in" }).waitFor();
  assert.match(page.url(), /\/admin\/login\?next=%2Fadmin%2Fcustomers$/);
  await snap(page, "admin-login");
  await page.getByLabel("E-mail").fill(ADMIN_EMAIL);
  await page.getByLabel("Password", { exact: true }).fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByText("That e-mail and password do not match an operator account.").waitFor();
  await page.getByLabel("Password", { exact: true }).fill(ADMIN_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/admin\/customers$/, { waitUntil: "commit" });
  await page.getByRole("heading", { name: "Customers" }).waitFor();
  await page.getByTestId("operator").getByText("Super admin", { exact: true }).waitFor();

  // Add a server: its key and the worker's command are shown once.
  await page.goto("/admin/servers");
  await page.getByRole("heading", { name: "Servers" }).waitFor();
  await page.getByRole("link", { name: "local" }).waitFor(); // wasp up's in-process worker
  await page.getByRole("button", { name: "Add server" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByRole("button", { name: "Add server" }).click();
  await dialog.getByText("Name the server (e.g. worker-sg-1)").waitFor(); // checked before it is sent
  await dialog.getByLabel("Name").fill("worker-sg-1");
  await dialog.getByLabel("IP address").fill("10.0.1.21");
  await dialog.getByLabel("CPU cores").fill("4");
  await dialog.getByLabel("RAM (GB)").fill("8");
  await dialog.getByLabel("Region").fill("ap-southeast");
  await dialog.getByLabel("Cost per month").fill("40");
  await dialog.getByRole("button", { name: "Add server" }).click();
  await dialog.getByText("Store it now: it is shown only this once.").waitFor();
  const serverKey = (await dialog.getByTestId("secret").textContent()).trim();
  assert.match(serverKey, /^ak_server_/);
  const command = await dialog.getByTestId("worker-command").textContent();
  assert.match(command, new RegExp(`export WASP_MANAGEMENT_URL=${wasp.base.replace(/[.]/g, "\\.")}\\n`));
  assert.match(command, new RegExp(`export WASP_SERVER_KEY=${serverKey}\\n`));
  assert.match(command, /export WASP_DATABASE_URL=/);
  assert.match(command, /export WASP_HTTP_ADDR=0\.0\.0\.0:8081/);
  assert.match(command, /wasp worker$/);
  await snap(page, "admin-server-added");
  await dialog.getByRole("button", { name: "Done" }).click();
  await page.getByRole("link", { name: "worker-sg-1" }).waitFor();
  assert.equal(await page.getByText(serverKey).count(), 0, "the key is shown only once");
  await snap(page, "admin-servers");

  // Its page: edit, drain, then remove.
  await page.getByRole("link", { name: "worker-sg-1" }).click();
  await page.getByRole("heading", { name: "worker-sg-1" }).waitFor();
  fleet.serverId = new URL(page.url()).searchParams.get("id");
  await page.getByText("Never").first().waitFor(); // no heartbeat yet
  await page.getByRole("button", { name: "Edit" }).click();
  await page.getByRole("dialog").getByLabel("Capacity (customers)").fill("250");
  await page.getByRole("dialog").getByRole("button", { name: "Save changes" }).click();
  await page.getByText("0 / 250").waitFor();
  await page.getByRole("button", { name: "Drain" }).click();
  await page.getByRole("dialog").getByText("stops receiving new customers").waitFor();
  await page.getByRole("dialog").getByRole("button", { name: "Drain server" }).click();
  await page.getByText(/^Status: Draining$/).waitFor();
  await snap(page, "admin-server");

  // A customer, with its credentials shown once.
  await page.goto("/admin/customers");
  await page.getByRole("button", { name: "Create customer" }).click();
  const create = page.getByRole("dialog");
  await create.getByLabel("E-mail").fill("acme@example.com");
  await create.getByLabel("Name (optional)").fill("Acme Ops");
  await create.getByLabel("Company (optional)").fill("Acme");
  await create.getByRole("button", { name: "Create customer" }).click();
  await create.getByText("Live API key (ak_live_…)").waitFor();
  const secrets = await create.getByTestId("secret").allTextContents();
  assert.equal(secrets.length, 3);
  assert.match(secrets[0], /^ak_live_/);
  assert.match(secrets[1], /^ak_test_/);
  assert.ok(secrets[2].length >= 12, "a temporary password");
  const testKey = secrets[1].trim();
  await create.getByRole("button", { name: "Copy" }).nth(1).click();
  await create.getByText("Copied").waitFor();
  await snap(page, "admin-customer-created");
  await create.getByRole("link", { name: "Open the customer" }).click();
  await page.getByRole("heading", { name: "Acme Ops" }).waitFor();
  fleet.customerId = new URL(page.url()).searchParams.get("id");
  assert.equal(await page.getByText(testKey).count(), 0, "the keys are shown only once");

  // Change the plan.
  await page.getByTestId("customer-plan").getByText("Basic plan").waitFor();
  await page.getByRole("button", { name: "Change plan" }).click();
  await page.getByRole("dialog").getByLabel("New plan").selectOption("pro");
  await page.getByRole("dialog").getByText("Pro: 300 requests a minute").waitFor();
  await page.getByRole("dialog").getByRole("button", { name: "Change to Pro" }).click();
  await page.getByTestId("customer-plan").getByText("Pro plan").waitFor();

  // Suspend: the customer's keys are refused; activate: they work again.
  await page.getByRole("button", { name: "Suspend" }).click();
  await page.getByRole("dialog").getByText("403 CUSTOMER_SUSPENDED").waitFor();
  await page.getByRole("dialog").getByRole("button", { name: "Suspend customer" }).click();
  await page.getByText(/^Status: Suspended$/).first().waitFor();
  const refused = await api("/api/v1/app/status", { key: testKey });
  assert.equal(refused.status, 403);
  assert.equal(refused.body.error.code, "CUSTOMER_SUSPENDED");
  await page.getByRole("button", { name: "Activate" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Activate customer" }).click();
  await page.getByRole("button", { name: "Suspend" }).waitFor();

  // The customer uses the API with its test key.
  let requestId = "";
  for (let i = 0; i < 3; i++) {
    const r = await api("/api/v1/app/status", { key: testKey });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    requestId = r.headers.get("x-request-id");
  }
  assert.ok(requestId, "the answer names its request");
  await snap(page, "admin-customer");

  // Usage: the calls are counted.
  const openTab = (name) => async () => {
    await page.getByRole("heading", { name: "Acme Ops" }).waitFor();
    await page.getByRole("tab", { name }).click();
  };
  await openTab("Usage")();
  await eventually(
    page,
    async () => {
      const n = Number((await page.getByTestId("usage-API requests").textContent({ timeout: 3_000 })).replace(/\D/g, ""));
      assert.ok(n >= 3, `API requests counted: ${n}`);
    },
    { prepare: openTab("Usage") },
  );
  await page.locator(".recharts-surface").first().waitFor();
  await snap(page, "admin-customer-usage");

  // Keys and webhooks.
  await page.getByRole("tab", { name: "Keys & webhooks" }).click();
  await page.getByText("No webhooks").waitFor();
  assert.ok((await page.getByRole("button", { name: /^Revoke / }).count()) >= 2);
  await page.getByRole("button", { name: "Create key" }).click();
  const keyDialog = page.getByRole("dialog");
  await keyDialog.getByLabel("Name (optional)").fill("CI");
  await keyDialog.getByRole("button", { name: "Create key" }).click();
  await keyDialog.getByText("Store it now: it is shown only this once.").waitFor();
  const ciKey = (await keyDialog.getByTestId("secret").textContent()).trim();
  assert.match(ciKey, /^ak_test_/);
  await keyDialog.getByRole("button", { name: "Done" }).click();
  const ciRow = page.getByRole("row").filter({ hasText: "CI · *" });
  await ciRow.getByRole("button", { name: /^Revoke / }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Revoke key" }).click();
  await ciRow.getByText("Revoked").waitFor();
  assert.equal((await api("/api/v1/app/status", { key: ciKey })).status, 401);
  await snap(page, "admin-customer-keys");

  // Audit trail: everything about the customer (GET /api/admin/logs?customer_id=), the
  // operator's changes and the customer's calls together.
  await openTab("Audit trail")();
  const trail = page.getByRole("region", { name: "Audit trail" });
  await trail.getByText("activate_customer").waitFor();
  await trail.getByLabel("Show").selectOption("admin_action");
  await trail.getByText("suspend_customer").waitFor();
  await trail.getByText("update_customer").waitFor();
  const apiCalls = async () => {
    await openTab("Audit trail")();
    await trail.getByLabel("Show").selectOption("api_call");
  };
  await apiCalls();
  await eventually(page, () => trail.locator(`[data-request-id="${requestId}"]`).waitFor({ timeout: 3_000 }), { prepare: apiCalls });
  assert.equal(await trail.getByText("suspend_customer").count(), 0, "only API calls once filtered");
  assert.equal(await trail.getByRole("link", { name: "See all in the log viewer" }).getAttribute("href"), `/admin/logs?customer_id=${fleet.customerId}&event_type=api_call`);
  await snap(page, "admin-customer-audit");

  // Regenerate the test key: the new one is shown once, the old one stops working.
  await page.getByRole("button", { name: "Regenerate key" }).click();
  const regen = page.getByRole("dialog");
  await regen.getByLabel(/Test keys/).check();
  await regen.getByText("Every active test key of this customer is revoked at once").waitFor();
  await regen.getByRole("button", { name: "Revoke test keys and issue a new one" }).click();
  await regen.getByText("Store it now: it is shown only this once.").waitFor();
  const newKey = (await regen.getByTestId("secret").textContent()).trim();
  assert.match(newKey, /^ak_test_/);
  assert.notEqual(newKey, testKey);
  await regen.getByRole("button", { name: "Done" }).click();
  const deadline = Date.now() + 10_000;
  while ((await api("/api/v1/app/status", { key: testKey })).status !== 401) {
    assert.ok(Date.now() < deadline, "the old test key still works");
    await page.waitForTimeout(250);
  }
  assert.equal((await api("/api/v1/app/status", { key: newKey })).status, 200);

  // The logs: find the request by its id.
  await page.goto("/admin/logs");
  await page.getByRole("heading", { name: "Logs" }).waitFor();
  await page.getByTestId("log-row").first().waitFor();
  await snap(page, "admin-logs");
  await page.getByRole("search", { name: "Find a request by id" }).getByLabel("Request id").fill(requestId);
  await page.getByRole("button", { name: "Find request" }).click();
  await page.waitForURL(new RegExp(`request_id=${requestId}`), { waitUntil: "commit" });
  await page.getByText("1–1 of 1 rows").waitFor();
  const row = page.locator(`[data-request-id="${requestId}"]`);
  assert.equal(await page.getByTestId("log-row").count(), 1);
  await row.getByText("Show").click();
  await row.getByText("/api/v1/app/status").first().waitFor();
  await snap(page, "admin-logs-request");
  // Filters narrow the same way: the operator's own sign-ins.
  await page.goto("/admin/logs?event_type=auth_event&action=login");
  await page.getByTestId("log-row").first().waitFor();
  assert.equal(await page.getByLabel("Event type").inputValue(), "auth_event");

  // Billing: the customer's plan, the totals and its usage row; the CSV downloads.
  await page.goto("/admin/billing");
  await page.getByRole("heading", { name: "Billing" }).waitFor();
  const plans = page.getByTestId("billing-plans");
  assert.match(await plans.locator('tr[data-plan="basic"]').textContent(), /Basic\$10\.00/);
  assert.match(await plans.locator('tr[data-plan="pro"]').textContent(), /^Pro\$25\.00 ?1\$/);
  assert.equal(await page.getByTestId("total-mrr").textContent(), "$25.00");
  const usageRow = page.getByTestId("billing-customers").locator('tr[data-customer="acme@example.com"]');
  await usageRow.waitFor();
  assert.match(await usageRow.textContent(), /Pro/);
  await snap(page, "admin-billing");
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Download CSV" }).click()]);
  assert.match(download.suggestedFilename(), /^wasp-billing-\d{4}-\d{2}-01-\d{4}-\d{2}-\d{2}\.csv$/);
  const csv = readFileSync(await download.path(), "utf8").trim().split(/\r?\n/);
  assert.match(csv[0], /^customer_id,email,company,plan,status,server,from,to,days_billed,revenue_usd,api_requests/);
  const acmeLine = csv.find((l) => l.includes("acme@example.com"));
  assert.ok(acmeLine, `a row for the customer in:\n${csv.join("\n")}`);
  assert.match(acmeLine, new RegExp(`^${fleet.customerId},acme@example\\.com,Acme,pro,active,`));
  // Last month and a custom period; a reversed one is explained before it is sent.
  await page.getByLabel("Period", { exact: true }).selectOption("last_month");
  await page.waitForURL(/period=last_month/, { waitUntil: "commit" });
  await page.getByLabel("Period", { exact: true }).selectOption("custom");
  await page.getByLabel("From", { exact: true }).fill("2026-11-05");
  await page.getByLabel("To", { exact: true }).fill("2026-11-04");
  await page.getByRole("button", { name: "Show period" }).click();
  await page.getByText("The end date must not be before the start date").waitFor();
  await page.getByLabel("Period", { exact: true }).selectOption("this_month");
  await page.getByLabel("Sort by").selectOption("api_requests");
  await page.waitForURL(/sort=api_requests/, { waitUntil: "commit" });
  await usageRow.waitFor();

  // The server page charts wasp up's own worker (a heartbeat every 5 s).
  await page.goto("/admin/servers");
  await page.getByRole("link", { name: "local" }).click();
  await page.getByRole("heading", { name: "Metrics" }).waitFor();
  await eventually(page, () => page.getByTestId("chart-cpu-ram").locator(".recharts-wrapper").waitFor({ timeout: 3_000 }), { timeout: 30_000 });
  await page.getByTestId("chart-sessions").locator(".recharts-wrapper").waitFor();
  await page.getByRole("group", { name: "Time range" }).getByRole("button", { name: "Last hour" }).click();
  await page.waitForURL(/range=1h/, { waitUntil: "commit" });
  await page.getByTestId("chart-cpu-ram").locator(".recharts-wrapper").waitFor();
  await snap(page, "admin-server-metrics");

  // Remove the drained server (it has no customers).
  await page.goto(`/admin/servers/view?id=${fleet.serverId}`);
  await page.getByRole("button", { name: "Remove" }).click();
  const remove = page.getByRole("dialog");
  assert.equal(await remove.getByRole("button", { name: "Remove server" }).isDisabled(), true);
  await remove.getByLabel("Type worker-sg-1 to confirm").fill("worker-sg-1");
  await remove.getByRole("button", { name: "Remove server" }).click();
  await page.waitForURL(/\/admin\/servers$/, { waitUntil: "commit" });
  await page.getByRole("link", { name: "local" }).waitFor();
  assert.equal(await page.getByRole("link", { name: "worker-sg-1" }).count(), 0);

  // Delete one customer and erase another, each after typing its e-mail.
  for (const [email, action, confirm] of [
    ["gone@example.com", "Delete", "Delete customer"],
    ["erased@example.com", "GDPR erase", "Erase everything"],
  ]) {
    const { id } = (await api("/api/admin/customers", { method: "POST", body: { email } })).body.data;
    await page.goto(`/admin/customers/view?id=${id}`);
    await page.getByRole("heading", { name: email }).waitFor();
    await page.getByRole("button", { name: action, exact: true }).click();
    const confirmDialog = page.getByRole("dialog");
    await confirmDialog.getByLabel(`Type ${email} to confirm`).fill(email);
    await confirmDialog.getByRole("button", { name: confirm }).click();
    await page.waitForURL(/\/admin\/customers$/, { waitUntil: "commit" });
    await page.getByRole("link", { name: "acme@example.com" }).waitFor();
    assert.equal(await page.getByRole("link", { name: email }).count(), 0);
    assert.equal((await api(`/api/admin/customers/${id}`)).status, 404);
  }

  // Customers: search and filters; the overview counts.
  await page.goto("/admin/customers?plan=pro");
  await page.getByRole("link", { name: "acme@example.com" }).waitFor();
  await page.getByLabel("Search", { exact: true }).fill("nobody-like-this");
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByText("No customers match").waitFor();
  await page.getByLabel("Search", { exact: true }).fill("acme");
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByRole("link", { name: "acme@example.com" }).waitFor();
  await page.getByLabel("WhatsApp").selectOption("disconnected");
  await page.waitForURL(/whatsapp_status=disconnected/, { waitUntil: "commit" });
  await page.getByRole("link", { name: "acme@example.com" }).waitFor();
  await snap(page, "admin-customers");
  await page.getByLabel("WhatsApp").selectOption("connected");
  await page.getByText("No customers match").waitFor();
  await page.goto("/admin");
  await page.getByRole("heading", { name: "Overview" }).waitFor();
  await page.getByTestId("count-plan-pro").getByText("1").waitFor();
  await page.getByTestId("count-customers").getByText("1").waitFor();
  // wasp up's own server, counted under its health (which follows this machine's load).
  assert.match(await page.getByTestId("servers-by-health").getByRole("listitem").first().textContent(), /^Health: (Healthy|Degraded|Unhealthy|Unknown)1$/);
  await eventually(page, async () => {
    const calls = Number((await page.getByTestId("today-api-requests").textContent({ timeout: 3_000 })).replace(/\D/g, ""));
    assert.ok(calls >= 3, `the customer's calls today: ${calls}`);
  });
  await page.getByTestId("chart-sessions").locator(".recharts-wrapper").waitFor();
  await page.getByTestId("chart-daily").locator(".recharts-wrapper").waitFor();
  await page.getByRole("group", { name: "Time range" }).getByRole("button", { name: "Last 7 days" }).click();
  await page.waitForURL(/\/admin\?range=7d$/, { waitUntil: "commit" });
  await page.getByTestId("chart-sessions").locator(".recharts-wrapper").waitFor();
  await snap(page, "admin-overview");

  // Phone: the menu; dark mode.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.getByRole("button", { name: "Open the menu" }).click();
  await page.getByRole("dialog").getByRole("link", { name: "Operators" }).waitFor();
  await page.screenshot({ path: "test-results/admin-menu-phone.png" });
  await page.keyboard.press("Escape");
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.emulateMedia({ colorScheme: "dark" });
  await page.reload();
  await page.getByRole("heading", { name: "Overview" }).waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.classList.contains("dark")), true);
  await snap(page, "admin-overview-dark");
  await page.emulateMedia({ colorScheme: "light" });

  // Sign-out.
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByText("You are signed out.").waitFor();
  await page.goto("/admin/servers");
  await page.getByRole("heading", { name: "Operator sign-in" }).waitFor();

  assert.deepEqual(unexpected(problems, ["401 (Unauthorized)"]), [], `failed requests: ${failed.join(", ")}`);
  await page.context().close();
});

test("a second operator sets up MFA and signs in with a TOTP code; a super admin manages operators", async () => {
  const admin = await newPage(browser, wasp.base);
  await signIn(admin.page, ADMIN_EMAIL, ADMIN_PASSWORD);
  await admin.page.waitForURL(/\/admin$/, { waitUntil: "commit" });
  await admin.page.goto("/admin/operators");
  await admin.page.getByRole("heading", { name: "Operators" }).waitFor();
  await admin.page.getByRole("button", { name: "Add operator" }).click();
  const add = admin.page.getByRole("dialog");
  await add.getByLabel("E-mail").fill("mfa-ops@example.com");
  await add.getByLabel("Name (optional)").fill("Mia Ops");
  await add.getByLabel("Role").selectOption("admin");
  await add.getByRole("button", { name: "Add operator" }).click();
  await add.getByText("Store it now: it is shown only this once.").waitFor();
  const password = (await add.getByTestId("secret").textContent()).trim();
  assert.ok(password.length >= 12);
  await snap(admin.page, "admin-operator-created");
  await add.getByRole("button", { name: "Done" }).click();
  const miaRow = admin.page.getByTestId("operator-row").filter({ hasText: "mfa-ops@example.com" });
  await miaRow.getByText("Must change password").waitFor();
  await snap(admin.page, "admin-operators");

  // The new operator signs in with the temporary password and must choose their own first:
  // until then the API refuses everything else, and the panel's pages send her back.
  const mia = await newPage(browser, wasp.base);
  await signIn(mia.page, "mfa-ops@example.com", password);
  await mia.page.waitForURL(/\/admin\/change-password$/, { waitUntil: "commit" });
  await mia.page.getByRole("heading", { name: "Choose your own password" }).waitFor();
  const before = await mia.page.evaluate(() => fetch("/api/admin/servers").then(async (r) => [r.status, (await r.json()).error?.code]));
  assert.deepEqual(before, [403, "PASSWORD_CHANGE_REQUIRED"]);
  await mia.page.goto("/admin/customers");
  await mia.page.waitForURL(/\/admin\/change-password\?next=%2Fadmin%2Fcustomers$/, { waitUntil: "commit" });
  await mia.page.goto("/admin/change-password");
  await mia.page.getByLabel("Current password").fill(password);
  await mia.page.getByLabel("New password", { exact: true }).fill(password);
  await mia.page.getByLabel("Repeat the new password").fill(password);
  await mia.page.getByRole("button", { name: "Save and continue" }).click();
  await mia.page.getByText("Choose a password different from the current one").waitFor();
  await snap(mia.page, "admin-change-password");
  const miaPassword = "mia-own-password-e2e-1";
  await choosePassword(mia.page, password, miaPassword);
  await mia.page.waitForURL(/\/admin$/, { waitUntil: "commit" });
  await mia.page.getByRole("heading", { name: "Overview" }).waitFor();
  await mia.page.getByTestId("operator").getByText("Mia Ops").waitFor();
  assert.equal(await mia.page.getByRole("link", { name: "Operators" }).count(), 0, "operators are a super admin's");
  await admin.page.reload();
  await miaRow.getByText("Admin", { exact: true }).waitFor();
  assert.equal(await miaRow.getByText("Must change password").count(), 0);

  // She turns MFA on from her account page.
  await mia.page.goto("/admin/account");
  await mia.page.getByRole("button", { name: "Set up two-factor authentication" }).click();
  await mia.page.getByRole("img", { name: "QR code to add this account to an authenticator app" }).waitFor();
  const secret = (await mia.page.getByTestId("mfa-secret").textContent()).trim();
  await snap(mia.page, "admin-account-mfa-setup");
  await mia.page.getByLabel("Code from the app").fill("12345");
  await mia.page.getByRole("button", { name: "Turn on two-factor authentication" }).click();
  await mia.page.getByText("Enter the 6 digits your authenticator app shows").waitFor();
  await mia.page.getByLabel("Code from the app").fill(await freshTotp(secret));
  await mia.page.getByRole("button", { name: "Turn on two-factor authentication" }).click();
  await mia.page.getByText("Two-factor authentication is on.").waitFor();
  await snap(mia.page, "admin-account");
  await mia.page.getByRole("button", { name: "Sign out" }).click();
  await mia.page.getByText("You are signed out.").waitFor();

  // Signing in now asks for the code; a wrong one is explained.
  await signIn(mia.page, "mfa-ops@example.com", miaPassword);
  await mia.page.getByRole("heading", { name: "Two-factor authentication" }).waitFor();
  await snap(mia.page, "admin-login-totp");
  await mia.page.getByLabel("Authentication code").fill("000000");
  await mia.page.getByRole("button", { name: "Verify and sign in" }).click();
  await mia.page.getByText("That code is wrong or has expired.").waitFor();
  await mia.page.getByLabel("Authentication code").fill(await freshTotp(secret));
  await mia.page.getByRole("button", { name: "Verify and sign in" }).click();
  await mia.page.waitForURL(/\/admin$/, { waitUntil: "commit" });
  await mia.page.getByRole("heading", { name: "Overview" }).waitFor();
  assert.deepEqual(unexpected(mia.problems, ["401 (Unauthorized)", "403 (Forbidden)"]), []);

  // The super admin changes her role, resets her password and deactivates her.
  await admin.page.reload();
  const row = admin.page.getByTestId("operator-row").filter({ hasText: "mfa-ops@example.com" });
  await row.getByText("MFA", { exact: true }).waitFor();
  await row.getByRole("button", { name: "Change the role of mfa-ops@example.com" }).click();
  await admin.page.getByRole("dialog").getByLabel("Role").selectOption("viewer");
  await admin.page.getByRole("dialog").getByRole("button", { name: "Make Viewer" }).click();
  await row.getByText("Viewer", { exact: true }).waitFor();
  await row.getByRole("button", { name: "Reset the password of mfa-ops@example.com" }).click();
  await admin.page.getByRole("dialog").getByRole("button", { name: "Reset password" }).click();
  await admin.page.getByRole("dialog").getByText("New password for mfa-ops@example.com").waitFor();
  const reset = (await admin.page.getByRole("dialog").getByTestId("secret").textContent()).trim();
  assert.notEqual(reset, password);
  await admin.page.getByRole("dialog").getByRole("button", { name: "Done" }).click();
  await row.getByText("Must change password").waitFor(); // a reset password is a temporary one
  await row.getByRole("button", { name: "Deactivate mfa-ops@example.com" }).click();
  await admin.page.getByRole("dialog").getByRole("button", { name: "Deactivate operator" }).click();
  await row.getByText("Inactive").waitFor();
  // Her session ended with the reset: her next call sends her to the sign-in page.
  await mia.page.goto("/admin/servers");
  await mia.page.getByRole("heading", { name: "Operator sign-in" }).waitFor();

  // Five wrong passwords lock the e-mail from this address.
  await admin.page.goto("/admin/account");
  const locked = await newPage(browser, wasp.base);
  for (let i = 0; i < 4; i++) {
    await signIn(locked.page, "nobody@example.com", `wrong-password-${i}`);
    await locked.page.getByText("That e-mail and password do not match an operator account.").waitFor();
  }
  await signIn(locked.page, "nobody@example.com", "wrong-password-4");
  await locked.page.getByText(/Too many failed sign-ins: this account is locked for 15 more minutes/).waitFor();
  await snap(locked.page, "admin-login-locked");

  assert.deepEqual(unexpected(admin.problems, ["401 (Unauthorized)"]), []);
  await Promise.all([admin.context.close(), mia.context.close(), locked.context.close()]);
});

test("a viewer sees no create, edit or delete control, and a forged change is refused", async () => {
  const created = await api("/api/admin/users", { method: "POST", body: { email: "viewer@example.com", role: "viewer", password: "viewer-password-e2e-1" } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const { page, problems } = await newPage(browser, wasp.base);
  await signIn(page, "viewer@example.com", "viewer-password-e2e-1");
  await choosePassword(page, "viewer-password-e2e-1", "viewer-own-password-e2e-1");
  await page.waitForURL(/\/admin$/, { waitUntil: "commit" });
  await page.getByText("You have read-only access").waitFor();
  assert.equal(await page.getByRole("link", { name: "Operators" }).count(), 0);

  await page.goto("/admin/servers");
  await page.getByRole("link", { name: "local" }).waitFor();
  assert.equal(await page.getByRole("button", { name: "Add server" }).count(), 0);
  await page.getByRole("link", { name: "local" }).click();
  await page.getByRole("heading", { name: "local" }).waitFor();
  await page.getByRole("heading", { name: "Customers on this server" }).waitFor();
  for (const name of ["Edit", "Drain", "Maintenance", "Activate", "Remove"]) {
    assert.equal(await page.getByRole("button", { name, exact: true }).count(), 0, `no ${name} button`);
  }

  await page.goto("/admin/customers");
  await page.getByRole("link", { name: "acme@example.com" }).waitFor();
  assert.equal(await page.getByRole("button", { name: "Create customer" }).count(), 0);
  await snap(page, "admin-viewer-customers");
  await page.getByRole("link", { name: "acme@example.com" }).click();
  await page.getByRole("heading", { name: "Acme Ops" }).waitFor();
  for (const name of ["Change plan", "Suspend", "Activate", "Reassign", "Regenerate key", "Delete", "GDPR erase"]) {
    assert.equal(await page.getByRole("button", { name, exact: true }).count(), 0, `no ${name} button`);
  }
  await page.getByRole("tab", { name: "Keys & webhooks" }).click();
  await page.getByText("API keys").first().waitFor();
  await page.getByText("ak_test_").first().waitFor();
  assert.equal(await page.getByRole("button", { name: "Create key" }).count(), 0);
  assert.equal(await page.getByRole("button", { name: /^Revoke/ }).count(), 0);
  await snap(page, "admin-viewer-customer");

  await page.goto("/admin/operators");
  await page.getByText("Only super admins manage operators").waitFor();

  // Billing is a viewer's to read, its CSV too.
  await page.goto("/admin/billing");
  await page.getByTestId("total-mrr").waitFor();
  await page.getByRole("link", { name: "Download CSV" }).waitFor();

  // A change forged with the viewer's cookies is refused by the API.
  const forged = await page.evaluate(async (id) => {
    const send = (method, path, body) =>
      fetch(path, { method, headers: { "content-type": "application/json" }, body: body && JSON.stringify(body) }).then(async (r) => [r.status, (await r.json()).error?.code]);
    return [
      await send("POST", "/api/admin/customers", { email: "forged@example.com" }),
      await send("PUT", `/api/admin/customers/${id}`, { plan: "enterprise" }),
      await send("POST", `/api/admin/customers/${id}/suspend`),
      await send("DELETE", `/api/admin/customers/${id}`),
    ];
  }, fleet.customerId);
  assert.deepEqual(forged, [
    [403, "FORBIDDEN"],
    [403, "FORBIDDEN"],
    [403, "FORBIDDEN"],
    [403, "FORBIDDEN"],
  ]);
  const after = await api(`/api/admin/customers/${fleet.customerId}`);
  assert.equal(after.body.data.plan, "pro");
  assert.equal(after.body.data.status, "active");

  assert.deepEqual(unexpected(problems, ["403 (Forbidden)"]), []);
  await page.context().close();
});
