"use client";
import { PageHeader } from "@/components/app-shell";
import { ChangePasswordForm } from "@/components/change-password-form";
import { ProfileForm } from "@/components/profile-form";
import { ResendVerification } from "@/components/resend-verification";
import { ErrorState, Loading } from "@/components/states";
import { Badge } from "@/components/ui/badge";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { formatNumber } from "@/lib/format";
import { PLANS, planName } from "@/lib/plans";
import { useSession } from "@/lib/session";

const limit = (n: number | null) => (n === null ? "Unlimited" : formatNumber(n));

export default function AccountPage() {
  const session = useSession();
  if (session.isPending) return <Loading rows={4} />;
  if (session.error) return <ErrorState error={session.error} onRetry={() => session.refetch()} />;
  const c = session.data.customer;
  return (
    <>
      <PageHeader title="Account" description="Your profile, password, plan and billing." />
      <div className="grid grid-cols-[minmax(0,1fr)] gap-4 lg:grid-cols-2">
        <Card>
          <CardHeader>
            <CardTitle>Profile</CardTitle>
            <CardDescription>To change your e-mail address, contact support.</CardDescription>
          </CardHeader>
          <CardContent className="grid gap-6">
            <dl className="grid grid-cols-[auto_minmax(0,1fr)] gap-x-4 gap-y-2 text-sm">
              <dt className="text-muted-foreground">E-mail</dt>
              <dd className="grid gap-2">
                <span className="flex flex-wrap items-center gap-2">
                  <span className="break-all">{c.email}</span>
                  {c.email_verified ? <Badge>Confirmed</Badge> : <Badge variant="warning">Not confirmed</Badge>}
                </span>
                {c.email_verified ? null : (
                  <span className="grid gap-1">
                    <span className="text-xs text-muted-foreground">Open the link we sent you to use live mode. No mail, or the link expired?</span>
                    <ResendVerification email={c.email} />
                  </span>
                )}
              </dd>
              <dt className="text-muted-foreground">Status</dt>
              <dd className="capitalize">{c.status}</dd>
              <dt className="text-muted-foreground">Customer id</dt>
              <dd className="break-all font-mono text-xs">{c.id}</dd>
            </dl>
            <ProfileForm customer={c} />
          </CardContent>
        </Card>
        <Card>
          <CardHeader>
            <CardTitle>Password</CardTitle>
            <CardDescription>Other browsers stay signed in until their session ends.</CardDescription>
          </CardHeader>
          <CardContent>
            <ChangePasswordForm />
          </CardContent>
        </Card>
        <Card className="lg:col-span-2">
          <CardHeader>
            <CardTitle>Plan</CardTitle>
            <CardDescription>
              You are on the <strong>{planName(c.plan)}</strong> plan. Limits apply to all your keys and both sessions together.
            </CardDescription>
          </CardHeader>
          <CardContent className="relative overflow-x-auto">
            <table className="w-full text-sm">
              <caption className="sr-only">Plans and their limits</caption>
              <thead className="text-left text-xs text-muted-foreground">
                <tr>
                  <th scope="col" className="py-2 pr-4 font-medium">Plan</th>
                  <th scope="col" className="py-2 pr-4 font-medium">Requests / minute</th>
                  <th scope="col" className="py-2 pr-4 font-medium">Requests / hour</th>
                  <th scope="col" className="py-2 pr-4 font-medium">Requests / day</th>
                  <th scope="col" className="py-2 pr-4 font-medium">Messages / day</th>
                </tr>
              </thead>
              <tbody className="divide-y">
                {Object.entries(PLANS).map(([name, l]) => (
                  <tr key={name} className={name === c.plan ? "bg-primary/10 font-medium" : undefined} aria-current={name === c.plan ? "true" : undefined}>
                    <th scope="row" className="py-2 pr-4 text-left">
                      {planName(name)} {name === c.plan ? <Badge className="ml-1">Your plan</Badge> : null}
                    </th>
                    <td className="py-2 pr-4 tabular-nums">{limit(l.requestsPerMinute)}</td>
                    <td className="py-2 pr-4 tabular-nums">{limit(l.requestsPerHour)}</td>
                    <td className="py-2 pr-4 tabular-nums">{limit(l.requestsPerDay)}</td>
                    <td className="py-2 pr-4 tabular-nums">{limit(l.messagesPerDay)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </CardContent>
        </Card>
        <Card className="lg:col-span-2">
          <CardHeader>
            <CardTitle>Billing</CardTitle>
            <CardDescription>Invoices and payment details.</CardDescription>
          </CardHeader>
          <CardContent className="text-sm text-muted-foreground">
            Billing is handled by your provider, outside this dashboard: to change your plan, or for an invoice, contact support with your customer id.
          </CardContent>
        </Card>
      </div>
    </>
  );
}
