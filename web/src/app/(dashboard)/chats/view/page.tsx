"use client";
import * as React from "react";
import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { useQueryClient } from "@tanstack/react-query";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { z } from "zod";
import { ArrowLeft } from "lucide-react";
import { Field, fieldProps } from "@/components/field";
import { MessageBubble } from "@/components/message-bubble";
import { Empty, ErrorState, FormError, Loading } from "@/components/states";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Input, Textarea } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { api } from "@/lib/api/provider";
import { fieldError } from "@/lib/api/errors";
import type { Chat, Message } from "@/lib/api/types";
import { useEventStream } from "@/lib/events";
import { jidLabel } from "@/lib/format";
import { useMode } from "@/lib/mode";
import { useModeQuery, useSessionStatus } from "@/lib/queries";
import { inboundSchema } from "@/lib/schemas";

const replySchema = z.object({ message: z.string().trim().min(1, "Write a message").max(4096, "At most 4096 characters") });

function Composer({ jid, onSent }: { jid: string; onSent: () => void }) {
  const [error, setError] = React.useState<unknown>(null);
  const form = useForm<z.infer<typeof replySchema>>({ resolver: zodResolver(replySchema), defaultValues: { message: "" } });
  const err = form.formState.errors.message?.message ?? fieldError(error, "message");
  const onSubmit = form.handleSubmit(async ({ message }) => {
    setError(null);
    try {
      await api.post("/api/v1/send/message", { phone: jid, message });
      form.reset();
      onSent();
    } catch (e) {
      setError(e);
    }
  });
  return (
    <form onSubmit={onSubmit} noValidate className="grid gap-2 border-t p-3">
      <div className="flex items-end gap-2">
        <div className="grid flex-1 gap-1">
          <Label htmlFor="reply" className="sr-only">
            Message
          </Label>
          <Textarea
            {...fieldProps("reply", err)}
            rows={1}
            placeholder="Write a message"
            className="min-h-9 resize-y"
            onKeyDown={(e) => {
              if (e.key === "Enter" && !e.shiftKey) {
                e.preventDefault();
                onSubmit();
              }
            }}
            {...form.register("message")}
          />
        </div>
        <Button type="submit" disabled={form.formState.isSubmitting}>
          Send
        </Button>
      </div>
      {err ? (
        <p id="reply-error" className="text-xs font-medium text-destructive">
          {err}
        </p>
      ) : null}
      <FormError error={error && !fieldError(error, "message") ? error : null} />
    </form>
  );
}

function SimulateInbound({ jid, onSent }: { jid: string; onSent: () => void }) {
  const number = /^(\d+)@s\.whatsapp\.net$/.exec(jid)?.[1];
  const [error, setError] = React.useState<unknown>(null);
  const [done, setDone] = React.useState(false);
  const form = useForm<z.infer<typeof inboundSchema>>({
    resolver: zodResolver(inboundSchema),
    defaultValues: { from: number ? `+${number}` : "", message: "", push_name: "" },
  });
  const e = form.formState.errors;
  const onSubmit = form.handleSubmit(async ({ from, message, push_name }) => {
    setError(null);
    setDone(false);
    try {
      await api.post("/api/v1/sandbox/inbound", { from: from.replace(/[\s\-.()]/g, ""), message, ...(push_name ? { push_name } : {}) });
      form.reset({ from, message: "", push_name });
      setDone(true);
      onSent();
    } catch (err) {
      setError(err);
    }
  });
  const fromError = e.from?.message ?? fieldError(error, "from");
  const msgError = e.message?.message ?? fieldError(error, "message");
  return (
    <Card>
      <CardHeader>
        <CardTitle>Simulate inbound message</CardTitle>
        <CardDescription>Sandbox: make a contact write to this session.</CardDescription>
      </CardHeader>
      <CardContent>
        <form onSubmit={onSubmit} noValidate className="grid gap-3">
          <Field id="inbound-from" label="From (contact's number)" error={fromError}>
            <Input {...fieldProps("inbound-from", fromError)} inputMode="tel" {...form.register("from")} />
          </Field>
          <Field id="inbound-name" label="Contact's name (optional)" error={e.push_name?.message}>
            <Input {...fieldProps("inbound-name", e.push_name?.message)} {...form.register("push_name")} />
          </Field>
          <Field id="inbound-message" label="Their message" error={msgError}>
            <Textarea {...fieldProps("inbound-message", msgError)} rows={2} {...form.register("message")} />
          </Field>
          <FormError error={error && !fieldError(error, "from") && !fieldError(error, "message") ? error : null} />
          {done ? (
            <p role="status" className="text-sm text-primary">
              Delivered to the session.
            </p>
          ) : null}
          <div>
            <Button type="submit" variant="secondary" disabled={form.formState.isSubmitting}>
              Simulate inbound message
            </Button>
          </div>
        </form>
      </CardContent>
    </Card>
  );
}

function ChatView() {
  const jid = useSearchParams().get("jid") ?? "";
  const { mode } = useMode();
  const qc = useQueryClient();
  const status = useSessionStatus();
  const key = ["chat", jid];
  const messages = useModeQuery<Message[]>(key, jid ? `/api/v1/chat/${encodeURIComponent(jid)}/messages` : null, {
    query: { limit: 100 },
    refetchInterval: 15_000, // besides the live stream, in case it is cut
  });
  const chatInfo = useModeQuery<Chat[]>(["chats", "one", jid], jid ? "/api/v1/chats" : null, { query: { search: jid, limit: 1 } });
  const chatName = chatInfo.data?.find((c) => c.jid === jid)?.name;
  const refresh = React.useCallback(() => {
    qc.invalidateQueries({ queryKey: [mode, "chat", jid] });
    qc.invalidateQueries({ queryKey: [mode, "chats"] });
  }, [qc, mode, jid]);
  const stream = useEventStream(
    mode,
    "message.*",
    (e) => {
      const chat = e.payload.chat_id ?? e.payload.chat_jid;
      if (!chat || chat === jid || e.payload.chat_lid === jid) refresh();
    },
    !!jid,
  );

  const ordered = React.useMemo(() => [...(messages.data ?? [])].reverse(), [messages.data]);
  const lastInbound = React.useMemo(() => [...ordered].reverse().find((m) => !m.from_me && m.status === "received"), [ordered]);
  const readSent = React.useRef<string | null>(null);
  React.useEffect(() => {
    // Opening a chat reads it: mark the newest inbound message (and the ones before it) read.
    if (!lastInbound || readSent.current === lastInbound.id) return;
    readSent.current = lastInbound.id;
    api
      .post(`/api/v1/message/${encodeURIComponent(lastInbound.id)}/read`, { phone: jid })
      .then(() => qc.invalidateQueries({ queryKey: [mode, "chats"] }))
      .catch(() => undefined);
  }, [lastInbound, jid, mode, qc]);

  const bottom = React.useRef<HTMLDivElement>(null);
  React.useEffect(() => {
    bottom.current?.scrollIntoView({ block: "end" });
  }, [ordered.length]);

  if (!jid) {
    return <Empty title="No chat chosen" action={<Link href="/chats" className="text-primary hover:underline">See all chats</Link>} />;
  }
  const sandbox = status.data?.driver === "sandbox";
  const group = jid.endsWith("@g.us");
  return (
    <div className="grid grid-cols-[minmax(0,1fr)] gap-4 lg:grid-cols-[minmax(0,1fr)_20rem]">
      <Card className="flex min-h-[60vh] flex-col">
        <div className="flex items-center gap-2 border-b p-3">
          <Link href="/chats" className="rounded p-1 hover:bg-accent" aria-label="Back to chats">
            <ArrowLeft className="h-4 w-4" aria-hidden />
          </Link>
          <div className="min-w-0 flex-1">
            <h1 className="truncate text-lg font-semibold">{chatName || jidLabel(jid)}</h1>
            {chatName ? <p className="truncate text-xs text-muted-foreground">{jidLabel(jid)}</p> : null}
          </div>
          <Badge variant={stream === "open" ? "default" : "secondary"} title="New messages and receipts arrive without a reload while live">
            {stream === "open" ? "Live updates" : stream === "connecting" ? "Connecting…" : "Reconnecting…"}
          </Badge>
        </div>
        <div className="flex-1 overflow-y-auto p-3" aria-live="polite">
          {messages.isPending ? <Loading rows={4} /> : null}
          {messages.error ? <ErrorState error={messages.error} onRetry={() => messages.refetch()} /> : null}
          {messages.data && ordered.length === 0 ? <Empty title="No messages in this chat yet" /> : null}
          <ul className="grid gap-2" aria-label="Messages">
            {ordered.map((m) => (
              <MessageBubble key={m.id} message={m} mode={mode} group={group} />
            ))}
          </ul>
          <div ref={bottom} />
        </div>
        <Composer jid={jid} onSent={refresh} />
      </Card>
      <div className="grid content-start gap-4">{sandbox ? <SimulateInbound jid={jid} onSent={refresh} /> : null}</div>
    </div>
  );
}

export default function ChatViewPage() {
  return (
    <React.Suspense fallback={<Loading rows={4} />}>
      <ChatView />
    </React.Suspense>
  );
}
