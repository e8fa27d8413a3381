"use client";
import Link from "next/link";
import { PageHeader } from "@/components/app-shell";
import { SessionBadge } from "@/components/session-badge";
import { Empty, ErrorState, Loading } from "@/components/states";
import { Badge } from "@/components/ui/badge";
import { buttonVariants } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import type { Mode } from "@/lib/api/client";
import type { Chat, UsageReport } from "@/lib/api/types";
import { formatNumber, formatTime, jidLabel } from "@/lib/format";
import { useMode } from "@/lib/mode";
import { planLimits, planName } from "@/lib/plans";
import { REASON_LABELS, useModeQuery, useSessionStatus } from "@/lib/queries";
import { useSession } from "@/lib/session";
import { ResendVerification } from "@/components/resend-verification";
import { errorMessage } from "@/lib/api/errors";

function SessionCard({ mode }: { mode: Mode }) {
  const customer = useSession().data?.customer;
  // An unconfirmed address keeps the live session closed (the API answers 403): not asked.
  const unverified = mode === "live" && customer?.email_verified === false;
  const status = useSessionStatus(mode, false, !unverified);
  const s = status.data;
  if (unverified) {
    return (
      <Card>
        <CardHeader>
          <CardTitle>Live session</CardTitle>
          <CardDescription>Your WhatsApp number</CardDescription>
        </CardHeader>
        <CardContent className="grid gap-3 text-sm">
          <p className="text-muted-foreground">Confirm your e-mail address to use your live session: open the link we sent to {customer.email}.</p>
          <div>
            <ResendVerification email={customer.email} />
          </div>
        </CardContent>
      </Card>
    );
  }
  return (
    <Card>
      <CardHeader className="flex-row items-start justify-between gap-2">
        <div>
          <CardTitle>{mode === "live" ? "Live session" : "Test session"}</CardTitle>
          <CardDescription>{mode === "live" ? "Your WhatsApp number" : "The sandbox: a simulated WhatsApp"}</CardDescription>
        </div>
        <SessionBadge state={s?.state} />
      </CardHeader>
      <CardContent className="grid gap-3 text-sm">
        {status.isPending ? <Loading rows={1} /> : null}
        {status.error ? <p className="text-muted-foreground">{errorMessage(status.error)}</p> : null}
        {s ? (
          <>
            <p>
              {s.phone_number ? (
                <>
                  <span className="font-medium">{s.phone_number}</span>
                  {s.push_name ? <span className="text-muted-foreground"> · {s.push_name}</span> : null}
                </>
              ) : (
                <span className="text-muted-foreground">No WhatsApp number linked yet.</span>
              )}
            </p>
            {s.state_reason && s.state !== "connected" ? <p className="text-muted-foreground">{REASON_LABELS[s.state_reason] ?? s.state_reason}</p> : null}
          </>
        ) : null}
        <div>
          <Link href="/connect" className={buttonVariants({ variant: "outline", size: "sm" })}>
            {s?.state === "connected" ? "Manage connection" : "Connect"}
          </Link>
        </div>
      </CardContent>
    </Card>
  );
}

function Meter({ label, value, limit, unit }: { label: string; value: number; limit: number | null; unit: string }) {
  const pct = limit ? Math.min(100, Math.round((value / limit) * 100)) : 0;
  return (
    <div className="grid gap-1.5">
      <div className="flex items-baseline justify-between text-sm">
        <span>{label}</span>
        <span className="tabular-nums text-muted-foreground">
          {formatNumber(value)} {limit ? `of ${formatNumber(limit)}` : ""} {unit}
        </span>
      </div>
      {limit ? (
        <div className="h-2 overflow-hidden rounded-full bg-muted" role="progressbar" aria-label={label} aria-valuenow={value} aria-valuemin={0} aria-valuemax={limit}>
          <div className={`h-full rounded-full ${pct >= 90 ? "bg-destructive" : "bg-primary"}`} style={{ width: `${pct}%` }} />
        </div>
      ) : (
        <p className="text-xs text-muted-foreground">No limit on your plan.</p>
      )}
    </div>
  );
}

export default function OverviewPage() {
  const { mode } = useMode();
  const session = useSession();
  const today = new Date().toISOString().slice(0, 10);
  const usage = useModeQuery<UsageReport>(["usage", "today"], "/api/v1/usage", { query: { from: today, to: today }, refetchInterval: 15_000 });
  const chats = useModeQuery<Chat[]>(["chats", "recent"], "/api/v1/chats", { query: { limit: 5 }, refetchInterval: 10_000 });
  const plan = session.data?.customer.plan;
  const limits = planLimits(plan);
  const name = session.data?.customer.name;

  return (
    <>
      <PageHeader title={name ? `Welcome, ${name}` : "Overview"} description="Your WhatsApp sessions, today's usage and the latest conversations." />
      <div className="grid grid-cols-[minmax(0,1fr)] gap-4 md:grid-cols-2">
        <SessionCard mode="live" />
        <SessionCard mode="test" />
      </div>
      <div className="mt-4 grid grid-cols-[minmax(0,1fr)] gap-4 lg:grid-cols-2">
        <Card>
          <CardHeader className="flex-row items-start justify-between">
            <div>
              <CardTitle>Today&apos;s usage</CardTitle>
              <CardDescription>Counted for your whole account (UTC day).</CardDescription>
            </div>
            <Badge variant="outline">{planName(plan)} plan</Badge>
          </CardHeader>
          <CardContent className="grid gap-4">
            {usage.isPending ? <Loading rows={2} /> : null}
            {usage.error ? <ErrorState error={usage.error} onRetry={() => usage.refetch()} /> : null}
            {usage.data ? (
              <>
                <Meter label="Messages sent" value={usage.data.totals.messages_sent} limit={limits.messagesPerDay} unit="messages" />
                <Meter label="API requests" value={usage.data.totals.api_requests} limit={limits.requestsPerDay} unit="requests" />
                <p className="text-sm text-muted-foreground">{formatNumber(usage.data.totals.messages_received)} messages received today.</p>
              </>
            ) : null}
            <Link href="/usage" className="text-sm text-primary hover:underline">
              See usage history
            </Link>
          </CardContent>
        </Card>
        <Card>
          <CardHeader>
            <CardTitle>Recent conversations</CardTitle>
            <CardDescription>{mode === "test" ? "In the test session." : "In the live session."}</CardDescription>
          </CardHeader>
          <CardContent>
            {chats.isPending ? <Loading rows={3} /> : null}
            {chats.error ? <ErrorState error={chats.error} onRetry={() => chats.refetch()} /> : null}
            {chats.data && chats.data.length === 0 ? (
              <Empty title="No messages yet">Connect the session and send your first message.</Empty>
            ) : null}
            {chats.data && chats.data.length > 0 ? (
              <ul className="divide-y">
                {chats.data.map((c) => (
                  <li key={c.jid}>
                    <Link href={`/chats/view?jid=${encodeURIComponent(c.jid)}`} className="flex items-center justify-between gap-3 py-2 hover:bg-accent/50">
                      <div className="min-w-0">
                        <p className="truncate text-sm font-medium">{c.name || jidLabel(c.jid)}</p>
                        <p className="truncate text-xs text-muted-foreground">{c.last_message_preview ?? ""}</p>
                      </div>
                      <div className="flex shrink-0 items-center gap-2 text-xs text-muted-foreground">
                        {c.unread_count > 0 ? <Badge aria-label={`${c.unread_count} unread`}>{c.unread_count}</Badge> : null}
                        {formatTime(c.last_message_at)}
                      </div>
                    </Link>
                  </li>
                ))}
              </ul>
            ) : null}
          </CardContent>
        </Card>
      </div>
    </>
  );
}
