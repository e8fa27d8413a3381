// What the browser tests share: the real wasp binary started in a fresh data directory, a
// headless Chromium (Debian's, through playwright-core), the operator's API, the outbox,
// a local webhook receiver, and screenshots at desktop and phone widths.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const webDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const resultsDir = join(webDir, "test-results");
export const ADMIN_EMAIL = "operator@example.com";
export const ADMIN_PASSWORD = "operator-password-e2e-1";

export function waspBinary() {
  const candidates = [
    process.env.WASP_BIN,
    process.env.CARGO_TARGET_DIR && join(process.env.CARGO_TARGET_DIR, "debug/wasp"),
    join(webDir, "../target/debug/wasp"),
  ].filter(Boolean);
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new Error(`no wasp binary: set WASP_BIN (looked at ${candidates.join(", ")})`);
  return found;
}

function freePort() {
  return new Promise((ok, fail) => {
    const srv = createNetServer();
    srv.once("error", fail);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

async function waitFor(what, check, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ""}`);
}

/** Starts `wasp up` on a free port with the sandbox driver and the UI it embeds (built from web/out). */
export async function startWasp(extraEnv = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), "wasp-e2e-"));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const log = [];
  const child = spawn(waspBinary(), ["up"], {
    env: {
      ...process.env,
      WASP_DATA_DIR: dataDir,
      WASP_HTTP_ADDR: `127.0.0.1:${port}`,
      WASP_WORKER_DRIVER: "sandbox",
      WASP_COOKIE_SECURE: "false",
      WASP_ADMIN_EMAIL: ADMIN_EMAIL,
      WASP_ADMIN_PASSWORD: ADMIN_PASSWORD,
      WASP_WEBHOOK_ALLOW_PRIVATE: "true",
      WASP_PUBLIC_URL: base,
      WASP_SIGNUP: "open",
      WASP_LOG: "warn",
      ...extraEnv,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (d) => log.push(String(d)));
  child.stderr.on("data", (d) => log.push(String(d)));
  const exited = new Promise((r) => child.once("exit", r));
  try {
    await waitFor("wasp to answer", async () => {
      if (child.exitCode !== null) throw new Error(`wasp exited (${child.exitCode}):\n${log.join("")}`);
      const r = await fetch(`${base}/login`);
      return r.ok && (r.headers.get("content-type") ?? "").includes("text/html");
    });
  } catch (e) {
    child.kill("SIGKILL");
    throw e;
  }
  return {
    base,
    dataDir,
    log,
    async stop() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
        if (child.exitCode === null) child.kill("SIGKILL");
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The operator's bearer token. */
export async function adminToken(base) {
  const r = await fetch(`${base}/api/admin/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD }),
  });
  const body = await r.json();
  if (!body.success) throw new Error(`operator sign-in failed: ${JSON.stringify(body)}`);
  return body.data.token;
}

/** A customer created by the operator, with its temporary dashboard password. */
export async function createCustomer(base, token, email, extra = {}) {
  const r = await fetch(`${base}/api/admin/customers`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ email, ...extra }),
  });
  const body = await r.json();
  if (!body.success) throw new Error(`customer creation failed: ${JSON.stringify(body)}`);
  return body.data;
}

/** The mails written to <data dir>/outbox.jsonl, waiting for one that matches. */
export async function waitForMail(dataDir, match) {
  return waitFor("a mail in the outbox", () => {
    const file = join(dataDir, "outbox.jsonl");
    if (!existsSync(file)) return null;
    const mails = readFileSync(file, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    return mails.reverse().find(match) ?? null;
  });
}

/** A local HTTP endpoint that records what it receives. */
export async function startReceiver() {
  const received = [];
  const srv = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      received.push({ method: req.method, url: req.url, headers: req.headers, body });
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("thanks from the e2e receiver");
    });
  });
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${srv.address().port}/hook`, received, close: () => new Promise((r) => srv.close(r)) };
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
}

/** A browser context with its console errors and failed page errors collected. */
export async function newPage(browser, base) {
  const context = await browser.newContext({ baseURL: base, viewport: { width: 1280, height: 800 } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
  const page = await context.newPage();
  const problems = [];
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.setDefaultTimeout(15_000);
  return { context, page, problems };
}

/** Screenshots of the page as it is, at desktop (1280×800) and phone (390×844) widths. */
export async function shoot(page, name) {
  mkdirSync(resultsDir, { recursive: true });
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: join(resultsDir, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: join(resultsDir, `${name}-phone.png`), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });
}

/** Console errors other than the failed requests a test caused on purpose. */
export function unexpected(problems, allowed = []) {
  return problems.filter((p) => !allowed.some((a) => p.includes(a)));
}
