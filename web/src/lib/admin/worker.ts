// The command that starts a worker for a server just added (crates/wasp: `wasp worker`
// reads WASP_MANAGEMENT_URL, WASP_SERVER_KEY, WASP_DATABASE_URL, WASP_HTTP_ADDR and
// WASP_DATA_DIR; docs/OPERATIONS.md, "Start the worker").

/** Where the worker listens: every interface, on the port of the API URL management uses. */
export function listenAddress(apiUrl: string): string {
  try {
    const u = new URL(apiUrl);
    const port = u.port || (u.protocol === "https:" ? "443" : "80");
    return `0.0.0.0:${port}`;
  } catch {
    return "0.0.0.0:8081";
  }
}

/** Quotes a value for a POSIX shell when it needs it. */
export function shellQuote(v: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`;
}

export const DATABASE_PLACEHOLDER = "postgres://USER:PASSWORD@DB-HOST/wasp";

/** The lines to run on the new machine (comments on lines of their own, so it stays narrow). */
export function workerCommand({ managementUrl, serverKey, apiUrl }: { managementUrl: string; serverKey: string; apiUrl: string }): string {
  return [
    `export WASP_MANAGEMENT_URL=${shellQuote(managementUrl.replace(/\/+$/, ""))}`,
    `export WASP_SERVER_KEY=${shellQuote(serverKey)}`,
    `# management's database:`,
    `export WASP_DATABASE_URL=${DATABASE_PLACEHOLDER}`,
    `# management reaches the worker at ${apiUrl}:`,
    `export WASP_HTTP_ADDR=${listenAddress(apiUrl)}`,
    `export WASP_DATA_DIR=/var/lib/wasp`,
    `wasp worker`,
  ].join("\n");
}
