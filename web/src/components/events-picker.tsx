"use client";
import { WEBHOOK_EVENTS } from "@/lib/schemas";

const TEXT: Record<string, string> = {
  "*": "Every event",
  "message.*": "Every message event",
  "message.received": "Message received",
  "message.sent": "Message sent",
  "message.delivered": "Message delivered",
  "message.read": "Message read",
  "message.failed": "Message failed",
  "message.reaction": "Reaction",
  "chat.presence": "Typing and presence",
  "call.offer": "Incoming call",
  "group.*": "Group changes",
  "session.*": "Session changes (QR, connected, disconnected)",
  "webhook.test": "Test events",
};

export function EventsPicker({ value, onChange, error }: { value: string[]; onChange: (v: string[]) => void; error?: string }) {
  const all = value.includes("*");
  return (
    <fieldset className="grid gap-2" aria-describedby={error ? "events-error" : undefined}>
      <legend className="mb-1 text-sm font-medium">Events</legend>
      <div className="grid gap-1.5 sm:grid-cols-2">
        {WEBHOOK_EVENTS.map((e) => (
          <label key={e} className="flex items-start gap-2 text-sm">
            <input
              type="checkbox"
              className="mt-0.5"
              checked={value.includes(e)}
              disabled={all && e !== "*"}
              onChange={(ev) => onChange(ev.target.checked ? (e === "*" ? ["*"] : [...value.filter((x) => x !== "*"), e]) : value.filter((x) => x !== e))}
            />
            <span>
              {TEXT[e] ?? e} <code className="text-xs text-muted-foreground">{e}</code>
            </span>
          </label>
        ))}
      </div>
      {error ? (
        <p id="events-error" className="text-xs font-medium text-destructive">
          {error}
        </p>
      ) : null}
    </fieldset>
  );
}
