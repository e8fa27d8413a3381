// A Server-Sent Events reader over fetch: EventSource cannot send the X-Wasp-Mode header,
// so the dashboard reads GET /api/v1/events as a stream and parses it here.

export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

/** Incremental parser: feed it text as it arrives, get back the complete events. */
export class SseParser {
  private buffer = "";
  private id: string | undefined;
  private event = "";
  private data: string[] = [];

  push(chunk: string): SseEvent[] {
    this.buffer += chunk;
    const out: SseEvent[] = [];
    let newline: number;
    while ((newline = this.buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = this.buffer.slice(0, newline);
      const sep = this.buffer.startsWith("\r\n", newline) ? 2 : 1;
      // A lone \r at the end may be the first half of \r\n: wait for more.
      if (this.buffer[newline] === "\r" && newline + 1 === this.buffer.length) break;
      this.buffer = this.buffer.slice(newline + sep);
      if (line === "") {
        if (this.data.length > 0) {
          out.push({ id: this.id, event: this.event || "message", data: this.data.join("\n") });
        }
        this.event = "";
        this.data = [];
        continue;
      }
      if (line.startsWith(":")) continue; // comment (keep-alive)
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "data") this.data.push(value);
      else if (field === "event") this.event = value;
      else if (field === "id") this.id = value;
    }
    return out;
  }
}

/** One event of wasp's stream (the webhook document). */
export interface WaspEvent {
  id: string;
  event: string;
  customer_id?: string;
  mode?: string;
  timestamp?: string;
  payload: Record<string, unknown>;
}

export function parseWaspEvent(e: SseEvent): WaspEvent | null {
  try {
    const doc = JSON.parse(e.data) as WaspEvent;
    if (typeof doc !== "object" || doc === null) return null;
    return { ...doc, event: doc.event ?? e.event, payload: doc.payload ?? {} };
  } catch {
    return null;
  }
}
