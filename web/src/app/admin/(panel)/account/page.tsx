"use client";
import * as React from "react";
import QRCode from "qrcode";
import { useQueryClient } from "@tanstack/react-query";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import type { z } from "zod";
import { PageHeader } from "@/components/app-shell";
import { AdminPasswordForm } from "@/components/admin/password-form";
import { AdminFormError } from "@/components/admin/states";
import { CopyButton } from "@/components/copy-button";
import { Field, fieldProps } from "@/components/field";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Input } from "@/components/ui/input";
import { OPERATOR_KEY, adminApi, useOperator } from "@/lib/admin/api";
import { ROLE_LABELS } from "@/lib/admin/roles";
import { totpSchema } from "@/lib/admin/schemas";
import type { MfaSetup } from "@/lib/admin/types";

type CodeValues = z.input<typeof totpSchema>;

function QrCode({ value }: { value: string }) {
  const [src, setSrc] = React.useState<string | null>(null);
  React.useEffect(() => {
    let live = true;
    QRCode.toDataURL(value, { width: 200, margin: 1, errorCorrectionLevel: "M" })
      .then((url) => live && setSrc(url))
      .catch(() => live && setSrc(null));
    return () => {
      live = false;
    };
  }, [value]);
  if (!src) return <div className="h-[200px] w-[200px] animate-pulse rounded bg-muted" />;
  // eslint-disable-next-line @next/next/no-img-element
  return <img src={src} width={200} height={200} alt="QR code to add this account to an authenticator app" className="rounded bg-white p-2" />;
}

function CodeForm({ label, submitLabel, onCode }: { label: string; submitLabel: string; onCode: (code: string) => Promise<void> }) {
  const [error, setError] = React.useState<unknown>(null);
  const form = useForm<CodeValues>({ resolver: zodResolver(totpSchema), defaultValues: { code: "" } });
  const msg = form.formState.errors.code?.message;
  const submit = form.handleSubmit(async (v) => {
    setError(null);
    try {
      await onCode(v.code.replace(/\s+/g, ""));
      form.reset();
    } catch (err) {
      setError(err);
    }
  });
  return (
    <form onSubmit={submit} noValidate className="grid max-w-xs gap-3">
      <Field id="mfa-code" label={label} error={msg}>
        <Input {...fieldProps("mfa-code", msg)} inputMode="numeric" autoComplete="one-time-code" maxLength={7} placeholder="123456" {...form.register("code")} />
      </Field>
      <AdminFormError error={error} />
      <Button type="submit" disabled={form.formState.isSubmitting} className="justify-self-start">
        {form.formState.isSubmitting ? "Checking…" : submitLabel}
      </Button>
    </form>
  );
}

function Mfa() {
  const qc = useQueryClient();
  const me = useOperator().data;
  const [setup, setSetup] = React.useState<MfaSetup | null>(null);
  const [error, setError] = React.useState<unknown>(null);
  const [pending, setPending] = React.useState(false);
  const [message, setMessage] = React.useState<string | null>(null);
  if (!me) return null;
  const reload = () => qc.invalidateQueries({ queryKey: OPERATOR_KEY });

  if (me.mfa_enabled) {
    return (
      <div className="grid gap-4">
        <p className="flex items-center gap-2 text-sm">
          <Badge>On</Badge> Signing in asks for a code from your authenticator app.
        </p>
        {message ? <p role="status" className="text-sm text-primary">{message}</p> : null}
        <CodeForm
          label="Current code, to turn it off"
          submitLabel="Turn off two-factor authentication"
          onCode={async (code) => {
            await adminApi.post("/api/admin/auth/mfa/disable", { code });
            setMessage(null);
            await reload();
          }}
        />
      </div>
    );
  }
  if (setup) {
    return (
      <div className="grid gap-4">
        <ol className="grid list-decimal gap-1 pl-5 text-sm">
          <li>Scan the QR code with your authenticator app (or type the secret into it).</li>
          <li>Enter the 6-digit code it shows.</li>
        </ol>
        <div className="flex flex-col gap-4 sm:flex-row sm:items-start">
          <QrCode value={setup.otpauth_url} />
          <div className="grid min-w-0 gap-2">
            <p className="text-sm font-medium">Secret</p>
            <code data-testid="mfa-secret" className="break-all rounded bg-muted px-2 py-1.5 font-mono text-sm">
              {setup.secret}
            </code>
            <CopyButton text={setup.secret} label="Copy secret" className="justify-self-start" />
          </div>
        </div>
        <CodeForm
          label="Code from the app"
          submitLabel="Turn on two-factor authentication"
          onCode={async (code) => {
            await adminApi.post("/api/admin/auth/mfa/enable", { code });
            setSetup(null);
            setMessage("Two-factor authentication is on. Your next sign-in asks for a code.");
            await reload();
          }}
        />
      </div>
    );
  }
  return (
    <div className="grid gap-3">
      <p className="flex items-center gap-2 text-sm">
        <Badge variant="outline">Off</Badge> Add a code from an authenticator app (TOTP) to your sign-in.
      </p>
      {message ? <p role="status" className="text-sm text-primary">{message}</p> : null}
      <AdminFormError error={error} />
      <Button
        className="justify-self-start"
        disabled={pending}
        onClick={async () => {
          setPending(true);
          setError(null);
          try {
            setSetup(await adminApi.post<MfaSetup>("/api/admin/auth/mfa/setup"));
          } catch (e) {
            setError(e);
          } finally {
            setPending(false);
          }
        }}
      >
        Set up two-factor authentication
      </Button>
    </div>
  );
}

export default function AdminAccountPage() {
  const me = useOperator().data;
  return (
    <>
      <PageHeader title="My account" description={me ? `${me.email} · ${ROLE_LABELS[me.role]}` : undefined} />
      <div className="grid grid-cols-[minmax(0,1fr)] gap-4 lg:grid-cols-2">
        <Card>
          <CardHeader>
            <CardTitle>Two-factor authentication</CardTitle>
            <CardDescription>A 6-digit code from an app such as Aegis, Google Authenticator or 1Password.</CardDescription>
          </CardHeader>
          <CardContent>
            <Mfa />
          </CardContent>
        </Card>
        <Card>
          <CardHeader>
            <CardTitle>Password</CardTitle>
            <CardDescription>Change a password a super admin gave you (a new operator&apos;s, or after a reset) to one of your own.</CardDescription>
          </CardHeader>
          <CardContent>
            <AdminPasswordForm buttonClassName="justify-self-start" />
          </CardContent>
        </Card>
      </div>
    </>
  );
}
