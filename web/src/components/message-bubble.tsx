"use client";
import * as React from "react";
import { Check, CheckCheck, Clock, Download, FileText, MapPin, AlertCircle } from "lucide-react";
import { Button } from "@/components/ui/button";
import { api } from "@/lib/api/provider";
import type { Message } from "@/lib/api/types";
import type { Mode } from "@/lib/api/client";
import { formatBytes, formatTime, jidLabel } from "@/lib/format";
import { ApiError, errorMessage } from "@/lib/api/errors";
import { cn } from "@/lib/utils";

const STATUS_TEXT: Record<string, string> = {
  pending: "Pending",
  sent: "Sent",
  delivered: "Delivered",
  read: "Read",
  played: "Played",
  failed: "Failed",
};

export function Receipt({ status }: { status: string }) {
  const label = STATUS_TEXT[status] ?? status;
  const Icon = status === "sent" ? Check : status === "pending" ? Clock : status === "failed" ? AlertCircle : CheckCheck;
  return (
    <span className={cn("inline-flex items-center gap-1", (status === "read" || status === "played") && "text-sky-600 dark:text-sky-400")} data-status={status}>
      <Icon className="h-3.5 w-3.5" aria-hidden />
      <span className="text-[11px]">{label}</span>
    </span>
  );
}

/** A media file of a message, fetched with the session cookie and mode (an <img src> could not send them). */
function useMediaUrl(message: Message, mode: Mode, enabled: boolean) {
  const [state, setState] = React.useState<{ url?: string; error?: unknown }>({});
  React.useEffect(() => {
    if (!enabled) return;
    let url: string | undefined;
    const abort = new AbortController();
    api
      .raw(`/api/v1/message/${encodeURIComponent(message.id)}/download`, { mode, signal: abort.signal, headers: { Accept: "*/*" } })
      .then(async (r) => {
        if (!r.ok) {
          const body = (await r.json().catch(() => null)) as { error?: { code: string; message: string } } | null;
          throw new ApiError(r.status, body?.error ?? { code: r.status >= 500 ? "INTERNAL_ERROR" : "MEDIA_UNAVAILABLE", message: `HTTP ${r.status}` });
        }
        url = URL.createObjectURL(await r.blob());
        setState({ url });
      })
      .catch((error) => {
        if (!abort.signal.aborted) setState({ error });
      });
    return () => {
      abort.abort();
      if (url) URL.revokeObjectURL(url);
    };
  }, [message.id, mode, enabled]);
  return state;
}

function download(url: string, name: string) {
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.click();
}

function Media({ message, mode }: { message: Message; mode: Mode }) {
  const c = message.content as { mime_type?: string; mimetype?: string; file_name?: string; size?: number; file_length?: number };
  const isImage = message.type === "image" || message.type === "sticker";
  const [wanted, setWanted] = React.useState(isImage);
  const media = useMediaUrl(message, mode, wanted && !message.revoked_at);
  const name = c.file_name ?? `${message.type}-${message.id}`;
  const size = c.size ?? c.file_length;
  if (message.revoked_at) return null;
  if (isImage) {
    if (media.error) return <p className="text-xs text-muted-foreground">{errorMessage(media.error)}</p>;
    if (!media.url) return <div className="h-40 w-56 max-w-full animate-pulse rounded bg-muted" aria-label="Loading the image" />;
    // eslint-disable-next-line @next/next/no-img-element
    return <img src={media.url} alt={message.body ? `Image: ${message.body}` : "Image"} className="max-h-72 max-w-full rounded" />;
  }
  if (message.type === "video" && media.url) return <video src={media.url} controls className="max-h-72 max-w-full rounded" />;
  if (message.type === "audio" && media.url) return <audio src={media.url} controls className="max-w-full" />;
  return (
    <div className="flex items-center gap-2 rounded border bg-background/60 p-2 text-sm">
      <FileText className="h-5 w-5 shrink-0" aria-hidden />
      <div className="min-w-0 flex-1">
        <p className="truncate">{name}</p>
        <p className="text-xs text-muted-foreground">
          {c.mime_type ?? c.mimetype ?? message.type}
          {size ? ` · ${formatBytes(size)}` : ""}
        </p>
        {media.error ? <p className="text-xs text-destructive">{errorMessage(media.error)}</p> : null}
      </div>
      <Button
        variant="outline"
        size="sm"
        onClick={() => (media.url ? download(media.url, name) : setWanted(true))}
        aria-label={media.url ? `Save ${name}` : `Load ${name}`}
      >
        <Download aria-hidden />
        {media.url ? "Save" : "Load"}
      </Button>
    </div>
  );
}

function Body({ message }: { message: Message }) {
  const c = message.content as Record<string, unknown>;
  if (message.revoked_at) return <p className="italic text-muted-foreground">This message was deleted.</p>;
  if (message.type === "location") {
    return (
      <p className="flex items-center gap-1">
        <MapPin className="h-4 w-4" aria-hidden /> {String(c.latitude ?? "?")}, {String(c.longitude ?? "?")}
      </p>
    );
  }
  if (message.type === "contact") {
    return (
      <p>
        Contact: {String(c.contact_name ?? c.display_name ?? "")} {c.contact_phone ? `(${String(c.contact_phone)})` : ""}
      </p>
    );
  }
  if (message.type === "poll") {
    const options = Array.isArray(c.options) ? (c.options as unknown[]) : [];
    return (
      <div>
        <p className="font-medium">{String(c.question ?? message.body ?? "Poll")}</p>
        <ul className="ml-4 list-disc text-sm">
          {options.map((o, i) => (
            <li key={i}>{typeof o === "string" ? o : String((o as { name?: string }).name ?? JSON.stringify(o))}</li>
          ))}
        </ul>
      </div>
    );
  }
  return message.body ? <p className="whitespace-pre-wrap break-words">{message.body}</p> : null;
}

export function MessageBubble({ message, mode, group }: { message: Message; mode: Mode; group: boolean }) {
  const media = ["image", "video", "audio", "document", "sticker"].includes(message.type);
  return (
    <li className={cn("flex", message.from_me ? "justify-end" : "justify-start")} data-message-id={message.id}>
      <div
        className={cn(
          "grid max-w-[85%] gap-1 rounded-lg px-3 py-2 text-sm shadow-xs sm:max-w-[70%]",
          message.from_me ? "bg-primary/15" : "border bg-card",
        )}
      >
        {group && !message.from_me ? <p className="text-xs font-medium text-primary">{jidLabel(message.sender_jid)}</p> : null}
        {message.is_forwarded ? <p className="text-xs italic text-muted-foreground">Forwarded</p> : null}
        {media ? <Media message={message} mode={mode} /> : null}
        <Body message={message} />
        <div className="flex items-center justify-end gap-2 text-[11px] text-muted-foreground">
          {message.edited_at ? <span>edited</span> : null}
          <time dateTime={message.timestamp}>{formatTime(message.timestamp)}</time>
          {message.from_me ? <Receipt status={message.status} /> : null}
        </div>
      </div>
    </li>
  );
}
