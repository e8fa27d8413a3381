// The customer dashboard in a real browser against the real binary (npm run e2e).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import QRCode from "qrcode";
import {
  adminToken,
  createCustomer,
  launchBrowser,
  newPage,
  shoot,
  startReceiver,
  startWasp,
  unexpected,
  waitForMail,
} from "./support.mjs";

const NEW_PASSWORD = "alice-own-password-42";
const CONTACT = "+6289876543210";
const CONTACT_JID = "6289876543210@s.whatsapp.net";

let wasp;
let browser;
let receiver;
let token;
/** What the walkthrough leaves for the isolation test. */
const alice = { email: "alice@example.com", testKey: "", webhookId: "" };

before(async () => {
  wasp = await startWasp();
  browser = await launchBrowser();
  receiver = await startReceiver();
  token = await adminToken(wasp.base);
});

after(async () => {
  await browser?.close();
  await receiver?.close();
  await wasp?.stop();
});

/** Repeats `check` (reloading the page between tries) until it passes. */
async function eventually(page, check, { timeout = 20_000, reload = true } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      if (reload) await page.reload();
      await page.waitForTimeout(500);
    }
  }
}

async function signIn(page, email, password) {
  await page.goto("/login");
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

async function changeTemporaryPassword(page, temporary, next) {
  await page.waitForURL(/\/change-password/, { waitUntil: "commit" });
  await page.getByRole("heading", { name: "Choose your own password" }).waitFor();
  await page.getByLabel("Current password").fill(temporary);
  await page.getByLabel("New password", { exact: true }).fill(next);
  await page.getByLabel("Repeat the new password").fill(next);
  await page.getByRole("button", { name: "Save and continue" }).click();
}

test("a customer's walkthrough: first sign-in, key, QR login, sends, chat, webhook, usage, sign-out", async () => {
  const customer = await createCustomer(wasp.base, token, alice.email, { full_name: "Alice Example" });
  const { page, problems } = await newPage(browser, wasp.base);

  // Sign in with the temporary password; a wrong password first is explained in words.
  await page.goto("/login");
  await shoot(page, "login");
  await page.getByLabel("E-mail").fill(alice.email);
  await page.getByLabel("Password", { exact: true }).fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByText("That e-mail and password do not match an account.").waitFor();
  await page.getByLabel("Password", { exact: true }).fill(customer.dashboard_password);
  await page.getByRole("button", { name: "Sign in" }).click();

  // The temporary password must be changed before anything else.
  await page.waitForURL(/\/change-password/, { waitUntil: "commit" });
  await shoot(page, "change-password");
  await page.goto("/api-keys");
  await page.waitForURL(/\/change-password/, { waitUntil: "commit" });
  await changeTemporaryPassword(page, customer.dashboard_password, NEW_PASSWORD);
  await page.waitForURL(/\/api-keys$/, { waitUntil: "commit" });

  // Overview, with the test-mode switch on for a new customer.
  await page.goto("/");
  await page.getByRole("heading", { name: "Welcome, Alice Example" }).waitFor();
  assert.equal(await page.getByRole("switch", { name: "Test mode" }).getAttribute("aria-checked"), "true");
  await page.getByText("Test mode: you are using the sandbox session.").waitFor();
  await shoot(page, "overview");
  await page.setViewportSize({ width: 390, height: 844 });
  await page.getByRole("button", { name: "Open the menu" }).click();
  await page.getByRole("dialog").getByRole("link", { name: "Webhooks" }).waitFor();
  await page.screenshot({ path: "test-results/overview-menu-phone.png" });
  await page.keyboard.press("Escape");
  await page.setViewportSize({ width: 1280, height: 800 });

  // A test key, shown once.
  await page.goto("/api-keys");
  await page.getByRole("heading", { name: "API keys" }).waitFor();
  await page.getByRole("button", { name: "Create key" }).click();
  const keyDialog = page.getByRole("dialog");
  await keyDialog.getByRole("button", { name: "Create key" }).click();
  await keyDialog.getByText("Name the key").waitFor(); // the name is required
  await keyDialog.getByLabel("Name").fill("CI");
  await keyDialog.getByRole("button", { name: "Create key" }).click();
  await keyDialog.getByText("Store it now: it is shown only this once.").waitFor();
  alice.testKey = (await keyDialog.getByTestId("secret").textContent()).trim();
  assert.match(alice.testKey, /^ak_test_/);
  await keyDialog.getByRole("button", { name: "Copy" }).click();
  await keyDialog.getByText("Copied").waitFor();
  await shoot(page, "api-keys-created");
  await keyDialog.getByRole("button", { name: "Done" }).click();
  await page.getByRole("cell", { name: /^CI test/ }).waitFor();
  assert.equal(await page.getByText(alice.testKey).count(), 0, "the key is not shown again");
  await shoot(page, "api-keys");

  // Connect the test session by QR, and play the phone.
  await page.goto("/connect");
  await page.getByRole("heading", { name: "Connect WhatsApp" }).waitFor();
  await shoot(page, "connect");
  await page.getByRole("button", { name: "Show QR code" }).click();
  await page.getByRole("img", { name: "QR code to scan with WhatsApp" }).waitFor();
  await page.getByText(/This code changes in \d+ s\./).waitFor();
  await shoot(page, "connect-qr");
  await page.getByLabel("Phone number that scans").fill("+62 812 3456 7890");
  await page.getByRole("button", { name: "Simulate scan" }).click();
  await page.getByText("+6281234567890").waitFor();
  await page.getByText("Connected", { exact: true }).first().waitFor();
  await shoot(page, "connect-connected");

  // Send a text: the form checks the number first, then the API sends.
  await page.goto("/send");
  const textPanel = page.getByRole("tabpanel", { name: "Text" });
  await textPanel.getByLabel("To (phone number or JID)").fill("0812");
  await textPanel.getByLabel("Message", { exact: true }).fill("Hello from the dashboard");
  await textPanel.getByRole("button", { name: "Send", exact: true }).click();
  await textPanel.getByText("Enter a number in international format").waitFor();
  await textPanel.getByLabel("To (phone number or JID)").fill(CONTACT);
  await textPanel.getByRole("button", { name: "Send", exact: true }).click();
  await textPanel.getByText(/Sent \(message 3EB0/).waitFor();
  await shoot(page, "send-text");

  // …and an image, uploaded.
  await page.getByRole("tab", { name: "Image" }).click();
  const image = await QRCode.toBuffer("wasp e2e image", { type: "png", width: 120 });
  const imagePanel = page.getByRole("tabpanel", { name: "Image" });
  await imagePanel.getByLabel("To (phone number or JID)").fill(CONTACT);
  await imagePanel.getByLabel("File", { exact: true }).setInputFiles({ name: "receipt.png", mimeType: "image/png", buffer: image });
  await imagePanel.getByLabel("Caption (optional)").fill("Your receipt");
  await imagePanel.getByRole("button", { name: "Send", exact: true }).click();
  await imagePanel.getByText(/Sent \(message 3EB0/).waitFor();
  await shoot(page, "send-image");

  // The chat shows both, with receipts moving on to "Read", and the image itself.
  await imagePanel.getByRole("link", { name: "Open the chat" }).click();
  await page.waitForURL(/\/chats\/view\?jid=/, { waitUntil: "commit" });
  const messages = page.getByRole("list", { name: "Messages" });
  const text = messages.getByRole("listitem").filter({ hasText: "Hello from the dashboard" });
  const picture = messages.getByRole("listitem").filter({ has: page.getByRole("img", { name: "Image: Your receipt" }) });
  await text.waitFor();
  await picture.waitFor();
  await page.getByText("Live updates", { exact: true }).waitFor();
  await text.getByText("Read", { exact: true }).waitFor({ timeout: 15_000 });
  await picture.getByText("Read", { exact: true }).waitFor({ timeout: 15_000 });
  await shoot(page, "chat-view");

  // A contact writes back: the sandbox form, then an API call while the page stays open.
  await page.getByLabel("Contact's name (optional)").fill("Budi");
  await page.getByLabel("Their message").fill("Hi! Got it.");
  await page.getByRole("button", { name: "Simulate inbound message" }).click();
  await messages.getByText("Hi! Got it.").waitFor();
  const inbound = await fetch(`${wasp.base}/api/v1/sandbox/inbound`, {
    method: "POST",
    headers: { "x-api-key": alice.testKey, "content-type": "application/json" },
    body: JSON.stringify({ from: CONTACT, message: "Arrived without a reload", push_name: "Budi" }),
  });
  assert.equal(inbound.status, 201);
  await messages.getByText("Arrived without a reload").waitFor({ timeout: 5_000 }); // the event stream, not the 15 s poll
  await shoot(page, "chat-view-inbound");

  // The chat list, with its search.
  await page.goto("/chats");
  await page.getByRole("link", { name: /Budi|\+6289876543210/ }).waitFor();
  await page.getByLabel("Search chats").fill("nobody-like-this");
  await page.getByText("No chat matches your search").waitFor();
  await page.getByLabel("Search chats").fill("");
  await shoot(page, "chats");

  // A webhook to a local receiver: its secret once, a test delivery in the log.
  await page.goto("/webhooks");
  await page.getByText("No endpoints yet").waitFor();
  await page.getByRole("button", { name: "Add endpoint" }).click();
  const hookDialog = page.getByRole("dialog");
  await hookDialog.getByLabel("Endpoint URL").fill(receiver.url);
  await hookDialog.getByLabel("Description (optional)").fill("e2e receiver");
  await hookDialog.getByRole("button", { name: "Add endpoint" }).click();
  const secret = (await hookDialog.getByTestId("secret").textContent()).trim();
  assert.match(secret, /^whsec_/);
  await shoot(page, "webhooks-created");
  await hookDialog.getByRole("link", { name: "Open the endpoint" }).click();
  await page.waitForURL(/\/webhooks\/view\?id=/, { waitUntil: "commit" });
  alice.webhookId = new URL(page.url()).searchParams.get("id");
  await page.getByRole("button", { name: "Send test event" }).click();
  const testDelivery = page.getByRole("list", { name: "Deliveries" }).getByRole("listitem").filter({ hasText: "webhook.test" });
  await testDelivery.getByText("delivered", { exact: true }).waitFor({ timeout: 20_000 });
  await testDelivery.getByRole("button", { name: /^webhook\.test/ }).click();
  await testDelivery.getByText("Response: HTTP 200").waitFor();
  await testDelivery.getByText("thanks from the e2e receiver").waitFor();
  // The request as sent: its body (collapsed until asked for) and each attempt's headers.
  const body = testDelivery.getByLabel("Request body");
  assert.equal(await body.isVisible(), false, "collapsed at first");
  await testDelivery.getByText("Request body", { exact: true }).click();
  await body.waitFor();
  const shownBody = JSON.parse(await body.textContent());
  assert.equal(shownBody.event, "webhook.test");
  await testDelivery.getByText("Request headers", { exact: true }).click();
  await testDelivery.getByText(/^webhook-id: /m).waitFor();
  await shoot(page, "webhook-view");
  const delivered = receiver.received.find((r) => r.body.includes("webhook.test"));
  assert.ok(delivered, "the receiver got the test event");
  assert.deepEqual(JSON.parse(delivered.body), shownBody, "the log shows the body that was sent");
  await testDelivery.getByText(`webhook-id: ${delivered.headers["webhook-id"]}`).waitFor();
  await testDelivery.getByText(`webhook-timestamp: ${delivered.headers["webhook-timestamp"]}`).waitFor();
  assert.equal(await testDelivery.getByText(/webhook-signature:/).count(), 0, "no signature in the log");
  assert.match(delivered.headers["webhook-signature"], /^v1,/);
  await page.goto("/webhooks");
  await page.getByRole("link", { name: new RegExp(receiver.url.replace(/[.:/]/g, "\\$&")) }).waitFor();
  await shoot(page, "webhooks");

  // Usage counts the messages (counters are written every few seconds).
  await page.goto("/usage");
  await eventually(page, async () => {
    const sent = await page.getByTestId("total-Messages sent").textContent({ timeout: 5_000 });
    assert.ok(Number(sent.replace(/,/g, "")) >= 2, `messages sent: ${sent}`);
  });
  await page.getByText("Messages per day").waitFor();
  await page.getByText("Day (UTC)").first().waitFor();
  await shoot(page, "usage");

  // Account: the profile is edited, the form's and the API's rules shown at the field.
  await page.goto("/account");
  await page.getByRole("main").getByText(alice.email).waitFor();
  const profile = page.getByRole("form", { name: "Profile" });
  assert.equal(await profile.getByLabel("Name").inputValue(), "Alice Example");
  assert.equal(await profile.getByLabel("Time zone").inputValue(), "UTC");
  await profile.getByLabel("Name").fill("Alice Liddell");
  await profile.getByLabel("Company").fill("Wonderland Ltd");
  await profile.getByLabel("Time zone").fill("Mars/Olympus Mons");
  await profile.getByRole("button", { name: "Save profile" }).click();
  await profile.getByText("Choose a time zone such as Asia/Jakarta or UTC").waitFor();
  await profile.getByLabel("Time zone").fill("Asia/Jakarta");
  await profile.getByLabel("Language").fill("id");
  await profile.getByRole("button", { name: "Save profile" }).click();
  await profile.getByText("Your profile was saved.").waitFor();
  await shoot(page, "account");
  await page.reload();
  assert.equal(await profile.getByLabel("Name").inputValue(), "Alice Liddell");
  assert.equal(await profile.getByLabel("Company").inputValue(), "Wonderland Ltd");
  assert.equal(await profile.getByLabel("Time zone").inputValue(), "Asia/Jakarta");
  const me = await page.evaluate(() => fetch("/api/customer/auth/me").then((r) => r.json()));
  assert.deepEqual(
    [me.data.customer.name, me.data.customer.company, me.data.customer.timezone, me.data.customer.language],
    ["Alice Liddell", "Wonderland Ltd", "Asia/Jakarta", "id"],
  );
  assert.equal(me.data.customer.email, alice.email, "the e-mail is not the customer's to change");

  // The API reference with its playground on the test session.
  await page.goto("/docs");
  await page.getByRole("heading", { name: "API reference" }).waitFor();
  await page.getByLabel("Filter operations").fill("/app/status");
  await page.getByRole("navigation", { name: "Operations" }).getByRole("button", { name: /app\/status/ }).click();
  await page.getByText(`curl -s '${wasp.base}/api/v1/app/status'`).waitFor();
  await page.getByRole("button", { name: "Send request" }).click();
  await page.getByText("HTTP 200").waitFor();
  await page.getByText('"state": "connected"').waitFor();
  await shoot(page, "docs");

  // Overview again: the test session connected, the recent conversation.
  await page.goto("/");
  await page.getByText("+6281234567890").waitFor();
  await page.getByRole("link", { name: /Budi|\+6289876543210/ }).waitFor();
  await shoot(page, "overview-active");

  // Live mode: the switch is remembered, and the live session has its own chats.
  await page.getByRole("switch", { name: "Test mode" }).click();
  await page.getByText("Test mode: you are using the sandbox session.").waitFor({ state: "detached" });
  await page.goto("/chats");
  assert.equal(await page.getByRole("switch", { name: "Test mode" }).getAttribute("aria-checked"), "false");
  await page.getByText("Conversations of the live session").waitFor();
  await page.getByText("No chats yet").waitFor();
  await shoot(page, "chats-live");
  await page.getByRole("switch", { name: "Test mode" }).click();
  await page.getByRole("link", { name: /Budi/ }).waitFor();

  // Dark mode follows the system's preference.
  await page.emulateMedia({ colorScheme: "dark" });
  await page.goto("/");
  await page.getByText("+6281234567890").waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.classList.contains("dark")), true);
  await shoot(page, "overview-dark");
  await page.emulateMedia({ colorScheme: "light" });

  // A page that does not exist.
  await page.goto("/no-such-page");
  await page.getByRole("heading", { name: "This page does not exist" }).waitFor();
  await shoot(page, "not-found");

  assert.deepEqual(unexpected(problems, ["status of 401", "404 (Not Found)"]), []);

  // Sign out: the dashboard is closed until the next sign-in.
  await page.goto("/");
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/\/login/, { waitUntil: "commit" });
  await page.getByText("You are signed out.").waitFor();
  // The page sends the signed-out visitor on while it loads, which aborts the navigation
  // itself: wait for where it lands instead.
  await page.goto("/usage", { waitUntil: "commit" }).catch(() => {});
  const deadline = Date.now() + 15_000;
  while (!/\/login\?next=%2Fusage/.test(page.url())) {
    assert.ok(Date.now() < deadline, `still at ${page.url()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await page.context().close();
});

test("self-service sign-up with the e-mailed verification link, and a forgotten password reset", async () => {
  const probe = await fetch(`${wasp.base}/api/customer/auth/signup`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: wasp.base },
    body: JSON.stringify({ email: "probe" }),
  }).then((r) => r.json());
  assert.notEqual(probe.error?.code, "SIGNUP_CLOSED", "the binary does not open sign-up with WASP_SIGNUP=open");
  const { page, problems } = await newPage(browser, wasp.base);
  const email = "signup@example.com";
  const password = "signup-password-123";
  await page.goto("/register");
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Your name (optional)").fill("Sam Signup");
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByLabel("Repeat the password").fill("something else");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByText("The passwords do not match").waitFor();
  await shoot(page, "register");
  await page.getByLabel("Repeat the password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByRole("heading", { name: "Check your e-mail" }).waitFor();
  await shoot(page, "register-sent");

  const first = await waitForMail(wasp.dataDir, (m) => m.to === email && /verify-email/.test(m.link ?? ""));

  // Signed in before confirming: the account shows it, and a new link can be asked for.
  await page.goto("/login");
  await signIn(page, email, password);
  await page.getByRole("heading", { name: "Welcome, Sam Signup" }).waitFor();
  await page.getByText("Confirm your e-mail address to use your live session").waitFor();
  await page.getByRole("main").getByRole("button", { name: "Resend verification e-mail" }).waitFor();
  await shoot(page, "overview-unverified");
  await page.goto("/account");
  await page.getByText("Not confirmed", { exact: true }).waitFor();
  await page.getByRole("main").getByRole("button", { name: "Resend verification e-mail" }).click();
  await page.getByText(`A new link is on its way to ${email}.`).waitFor();
  await shoot(page, "account-unverified");
  const verification = await waitForMail(
    wasp.dataDir,
    (m) => m.to === email && /verify-email/.test(m.link ?? "") && m.link !== first.link,
  );
  assert.equal(verification.subject, first.subject);
  // The live-mode banner offers it too.
  await page.getByRole("switch", { name: "Test mode" }).click();
  await page.getByRole("note").getByRole("button", { name: "Resend verification e-mail" }).waitFor();
  await shoot(page, "account-unverified-live");
  await page.getByRole("switch", { name: "Test mode" }).click();

  // The second link confirms the address.
  await page.goto(verification.link);
  await page.getByText("Your e-mail address is confirmed.").waitFor();
  await shoot(page, "verify-email");
  await page.getByRole("link", { name: "Sign in" }).click();
  await signIn(page, email, password);
  await page.waitForURL((u) => u.pathname === "/", { waitUntil: "commit" });
  await page.getByRole("heading", { name: "Welcome, Sam Signup" }).waitFor();
  await page.goto("/account");
  await page.getByText("Confirmed", { exact: true }).waitFor();
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/\/login/, { waitUntil: "commit" });

  // Forgotten password: the outbox's link sets a new one.
  await page.getByRole("link", { name: "Forgot your password?" }).click();
  await page.getByLabel("E-mail").fill(email);
  await page.getByRole("button", { name: "Send the reset link" }).click();
  await page.getByText("a reset link is on its way").waitFor();
  await shoot(page, "forgot-password");
  const reset = await waitForMail(wasp.dataDir, (m) => m.to === email && /reset-password/.test(m.link ?? ""));
  await page.goto(reset.link);
  const fresh = "a-brand-new-password-7";
  await page.getByLabel("New password", { exact: true }).fill(fresh);
  await page.getByLabel("Repeat the new password").fill(fresh);
  await shoot(page, "reset-password");
  await page.getByRole("button", { name: "Set the new password" }).click();
  await page.waitForURL(/\/login\?reset=1/, { waitUntil: "commit" });
  await signIn(page, email, password);
  await page.getByText("That e-mail and password do not match an account.").waitFor();
  await page.getByLabel("Password", { exact: true }).fill(fresh);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Welcome, Sam Signup" }).waitFor();
  assert.deepEqual(unexpected(problems, ["status of 401"]), []);
  await page.context().close();
});

/** Signs a customer in through the API and answers its cookie header. */
async function cookieOf(email, password) {
  const r = await fetch(`${wasp.base}/api/customer/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: wasp.base },
    body: JSON.stringify({ email, password }),
  });
  assert.equal(r.status, 200);
  return r.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
}

test("a cookie-authenticated change from a foreign origin is refused", async () => {
  const cookie = await cookieOf(alice.email, NEW_PASSWORD);
  const create = (headers, body = JSON.stringify({ name: "from elsewhere", mode: "test" })) =>
    fetch(`${wasp.base}/api/v1/keys`, { method: "POST", headers: { cookie, "x-wasp-mode": "test", ...headers }, body });
  assert.equal((await create({ "content-type": "application/json", origin: "https://evil.example" })).status, 403);
  assert.equal((await create({ "content-type": "application/json", "sec-fetch-site": "cross-site" })).status, 403);
  assert.equal((await create({ "content-type": "text/plain", origin: wasp.base })).status, 403);
  const keys = await fetch(`${wasp.base}/api/v1/keys`, { headers: { cookie, "x-wasp-mode": "test" } }).then((r) => r.json());
  assert.ok(!keys.data.some((k) => k.name === "from elsewhere"), "nothing was created");
  // The same request from our own pages goes through.
  assert.equal((await create({ "content-type": "application/json", origin: wasp.base, "sec-fetch-site": "same-origin" })).status, 201);
});

test("customer B never sees customer A's chats, keys or webhooks", async () => {
  const bob = await createCustomer(wasp.base, token, "bob@example.com", { full_name: "Bob" });
  const { page } = await newPage(browser, wasp.base);
  await signIn(page, "bob@example.com", bob.dashboard_password);
  await changeTemporaryPassword(page, bob.dashboard_password, "bob-own-password-99");
  await page.getByRole("heading", { name: "Welcome, Bob" }).waitFor();

  await page.goto("/chats");
  await page.getByText("No chats yet").waitFor();
  await page.goto(`/chats/view?jid=${encodeURIComponent(CONTACT_JID)}`);
  await page.getByText("No messages in this chat yet").waitFor();
  assert.equal(await page.getByText("Hello from the dashboard").count(), 0);

  await page.goto("/api-keys");
  await page.getByRole("table").waitFor();
  assert.equal(await page.getByRole("cell", { name: /^CI/ }).count(), 0, "A's key is not listed");

  await page.goto("/webhooks");
  await page.getByText("No endpoints yet").waitFor();
  await page.goto(`/webhooks/view?id=${alice.webhookId}`);
  await page.getByText("We could not find that.").waitFor();
  await shoot(page, "isolation-webhook");
  await page.context().close();
});
