"use client";
import * as React from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { z } from "zod";
import { PageHeader } from "@/components/app-shell";
import { Field, fieldProps } from "@/components/field";
import { QrImage } from "@/components/qr";
import { SessionBadge } from "@/components/session-badge";
import { ErrorState, FormError, Loading } from "@/components/states";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Dialog, DialogClose, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Input } from "@/components/ui/input";
import { api } from "@/lib/api/provider";
import { fieldError } from "@/lib/api/errors";
import type { LoginQr, PairCode, SessionStatus } from "@/lib/api/types";
import { useEventStream } from "@/lib/events";
import { formatDateTime } from "@/lib/format";
import { useMode } from "@/lib/mode";
import { REASON_LABELS, useSessionStatus } from "@/lib/queries";
import { phoneNumber, scanSchema } from "@/lib/schemas";

function useCountdown(until: string | null | undefined): number | null {
  const [now, setNow] = React.useState(() => Date.now());
  React.useEffect(() => {
    if (!until) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [until]);
  if (!until) return null;
  return Math.max(0, Math.round((new Date(until).getTime() - now) / 1000));
}

function SimulateScan({ pairing }: { pairing: boolean }) {
  const { mode } = useMode();
  const qc = useQueryClient();
  const [error, setError] = React.useState<unknown>(null);
  const form = useForm<z.infer<typeof scanSchema>>({ resolver: zodResolver(scanSchema), defaultValues: { phone: "" } });
  const { errors, isSubmitting } = form.formState;
  const onSubmit = form.handleSubmit(async ({ phone }) => {
    setError(null);
    try {
      const status = await api.post<SessionStatus>("/api/v1/sandbox/scan", phone ? { phone } : {});
      qc.setQueryData([mode, "status"], status);
    } catch (e) {
      setError(e);
    }
  });
  const phoneError = errors.phone?.message ?? fieldError(error, "phone");
  return (
    <form onSubmit={onSubmit} noValidate className="grid gap-3 rounded-md border border-dashed p-4">
      <div>
        <p className="text-sm font-medium">Sandbox: play the phone</p>
        <p className="text-xs text-muted-foreground">
          {pairing ? "The pair code was issued for a number; leave the field empty to use it." : "Choose the number that scans, or leave it empty for a made-up one."}
        </p>
      </div>
      <Field id="scan-phone" label="Phone number that scans" error={phoneError}>
        <Input {...fieldProps("scan-phone", phoneError)} placeholder="+62 812 3456 7890" inputMode="tel" {...form.register("phone")} />
      </Field>
      <FormError error={error && !fieldError(error, "phone") ? error : null} />
      <div>
        <Button type="submit" disabled={isSubmitting}>
          {isSubmitting ? "Scanning…" : "Simulate scan"}
        </Button>
      </div>
    </form>
  );
}

const pairSchema = z.object({ phone: phoneNumber });

function StartLogin() {
  const { mode } = useMode();
  const qc = useQueryClient();
  const [method, setMethod] = React.useState<"qr" | "code">("qr");
  const refresh = () => qc.invalidateQueries({ queryKey: [mode, "status"] });
  const qr = useMutation({ mutationFn: () => api.get<LoginQr>("/api/v1/app/login"), onSuccess: refresh });
  const [pairError, setPairError] = React.useState<unknown>(null);
  const form = useForm<z.infer<typeof pairSchema>>({ resolver: zodResolver(pairSchema), defaultValues: { phone: "" } });
  const onPair = form.handleSubmit(async ({ phone }) => {
    setPairError(null);
    try {
      await api.get<PairCode>("/api/v1/app/login-with-code", { query: { phone: phone.replace(/[\s\-.()]/g, "") } });
      refresh();
    } catch (e) {
      setPairError(e);
    }
  });
  const phoneError = form.formState.errors.phone?.message ?? fieldError(pairError, "phone");
  return (
    <div className="grid gap-4">
      <div role="radiogroup" aria-label="How to link" className="inline-flex w-fit gap-1 rounded-lg bg-muted p-1">
        {(["qr", "code"] as const).map((m) => (
          <button
            key={m}
            type="button"
            role="radio"
            aria-checked={method === m}
            onClick={() => setMethod(m)}
            className={`rounded-md px-3 py-1 text-sm font-medium focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring ${method === m ? "bg-background shadow-xs" : "text-muted-foreground"}`}
          >
            {m === "qr" ? "QR code" : "Pair code"}
          </button>
        ))}
      </div>
      {method === "qr" ? (
        <div className="grid gap-3">
          <p className="text-sm text-muted-foreground">
            Show a QR code, then on the phone open WhatsApp → Settings → Linked devices → Link a device, and scan it.
          </p>
          <FormError error={qr.error} />
          <div>
            <Button onClick={() => qr.mutate()} disabled={qr.isPending}>
              {qr.isPending ? "Starting…" : "Show QR code"}
            </Button>
          </div>
        </div>
      ) : (
        <form onSubmit={onPair} noValidate className="grid max-w-sm gap-3">
          <p className="text-sm text-muted-foreground">Get an 8-character code to type on the phone (Linked devices → Link with phone number).</p>
          <Field id="pair-phone" label="The phone's number" error={phoneError}>
            <Input {...fieldProps("pair-phone", phoneError)} placeholder="+62 812 3456 7890" inputMode="tel" {...form.register("phone")} />
          </Field>
          <FormError error={pairError && !fieldError(pairError, "phone") ? pairError : null} />
          <div>
            <Button type="submit" disabled={form.formState.isSubmitting}>
              Get a pair code
            </Button>
          </div>
        </form>
      )}
    </div>
  );
}

function ConfirmLogout({ onConfirm, pending }: { onConfirm: () => void; pending: boolean }) {
  const [open, setOpen] = React.useState(false);
  return (
    <>
      <Button variant="destructive" onClick={() => setOpen(true)}>
        Log out
      </Button>
      <Dialog open={open} onOpenChange={setOpen}>
        <DialogContent>
          <DialogHeader>
            <DialogTitle>Log out of WhatsApp?</DialogTitle>
            <DialogDescription>This unlinks the device. To use the session again you will have to scan a new QR code.</DialogDescription>
          </DialogHeader>
          <DialogFooter>
            <DialogClose asChild>
              <Button variant="outline">Cancel</Button>
            </DialogClose>
            <Button
              variant="destructive"
              disabled={pending}
              onClick={() => {
                onConfirm();
                setOpen(false);
              }}
            >
              Log out
            </Button>
          </DialogFooter>
        </DialogContent>
      </Dialog>
    </>
  );
}

export default function ConnectPage() {
  const { mode } = useMode();
  const qc = useQueryClient();
  const status = useSessionStatus(undefined, true);
  const s = status.data;
  const refresh = React.useCallback(() => qc.invalidateQueries({ queryKey: [mode, "status"] }), [qc, mode]);
  useEventStream(mode, "session.*", refresh, !!s);
  const action = useMutation({
    mutationFn: (path: string) => api.post<SessionStatus>(path),
    onSettled: refresh,
  });
  const remaining = useCountdown(s?.state === "scanning" ? s.qr_expires_at : null);
  const sandbox = s?.driver === "sandbox";

  return (
    <>
      <PageHeader
        title="Connect WhatsApp"
        description={mode === "test" ? "Link the test session: the sandbox plays the phone for you." : "Link your WhatsApp number to the live session."}
      />
      {status.isPending ? <Loading rows={4} /> : null}
      {status.error ? <ErrorState error={status.error} onRetry={() => status.refetch()} /> : null}
      {s ? (
        <div className="grid grid-cols-[minmax(0,1fr)] gap-4 lg:grid-cols-[minmax(0,1fr)_20rem]">
          <Card>
            <CardHeader className="flex-row items-start justify-between gap-2">
              <div>
                <CardTitle>{mode === "live" ? "Live session" : "Test session"}</CardTitle>
                <CardDescription>{sandbox ? "Simulated by the sandbox" : "Driven by WhatsApp"}</CardDescription>
              </div>
              <SessionBadge state={s.state} />
            </CardHeader>
            <CardContent className="grid gap-5">
              {s.state_reason && s.state !== "connected" ? (
                <p className="text-sm text-muted-foreground" role="status">
                  {REASON_LABELS[s.state_reason] ?? s.state_reason}
                </p>
              ) : null}

              {s.state === "scanning" ? (
                <div className="grid gap-3">
                  {s.qr_code ? (
                    <div className="flex flex-col items-start gap-2">
                      <QrImage value={s.qr_code} />
                      <p className="text-sm text-muted-foreground" aria-live="polite">
                        {remaining !== null && remaining > 0 ? `This code changes in ${remaining} s.` : "Waiting for the next code…"}
                      </p>
                    </div>
                  ) : (
                    <Loading rows={1} label="Waiting for the QR code" />
                  )}
                  <p className="text-sm">On the phone: WhatsApp → Settings → Linked devices → Link a device.</p>
                </div>
              ) : null}

              {s.state === "pairing" && s.pair_code ? (
                <div className="grid gap-2">
                  <p className="text-sm">Enter this code on the phone (Linked devices → Link with phone number):</p>
                  <p className="font-mono text-3xl font-semibold tracking-widest" aria-label={`Pair code ${s.pair_code.split("").join(" ")}`}>
                    {s.pair_code}
                  </p>
                </div>
              ) : null}

              {(s.state === "scanning" || s.state === "pairing") && sandbox ? <SimulateScan pairing={s.state === "pairing"} /> : null}

              {s.state === "connected" ? (
                <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-2 text-sm">
                  <dt className="text-muted-foreground">Number</dt>
                  <dd className="font-medium">{s.phone_number ?? "—"}</dd>
                  <dt className="text-muted-foreground">Name</dt>
                  <dd>{s.push_name ?? "—"}</dd>
                  <dt className="text-muted-foreground">Connected since</dt>
                  <dd>{formatDateTime(s.connected_at)}</dd>
                </dl>
              ) : null}

              {!s.is_logged_in && s.state !== "scanning" && s.state !== "pairing" ? <StartLogin /> : null}

              <FormError error={action.error} />
              {s.is_logged_in ? (
                <div className="flex flex-wrap gap-2">
                  <Button variant="outline" disabled={action.isPending} onClick={() => action.mutate("/api/v1/app/reconnect")}>
                    Reconnect
                  </Button>
                  {sandbox && s.state === "connected" ? (
                    <Button variant="outline" disabled={action.isPending} onClick={() => action.mutate("/api/v1/sandbox/disconnect")}>
                      Simulate a dropped connection
                    </Button>
                  ) : null}
                  <ConfirmLogout pending={action.isPending} onConfirm={() => action.mutate("/api/v1/app/logout")} />
                </div>
              ) : null}
            </CardContent>
          </Card>
          <Card>
            <CardHeader>
              <CardTitle>States</CardTitle>
            </CardHeader>
            <CardContent className="grid gap-2 text-sm text-muted-foreground">
              <p>
                <strong className="text-foreground">Waiting for scan</strong>: a QR code is shown; codes change every 20 to 60 seconds.
              </p>
              <p>
                <strong className="text-foreground">Connected</strong>: messages can be sent and received.
              </p>
              <p>
                <strong className="text-foreground">Disconnected</strong>: a linked session comes back by itself, or with Reconnect.
              </p>
              <p>
                <strong className="text-foreground">Logged out</strong>: the device was unlinked; link it again.
              </p>
            </CardContent>
          </Card>
        </div>
      ) : null}
    </>
  );
}
