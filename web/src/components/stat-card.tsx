import * as React from "react";
import Link from "next/link";
import { Card } from "@/components/ui/card";

/** A figure in a card (inside a <dl>): its name, the value, a hint, and where it leads. */
export function StatCard({ label, value, hint, href, testId }: { label: string; value: React.ReactNode; hint?: React.ReactNode; href?: string; testId?: string }) {
  const body = (
    <>
      <dt className="text-xs text-muted-foreground">{label}</dt>
      <dd className="text-2xl font-semibold tabular-nums" data-testid={testId}>
        {value}
      </dd>
      {hint ? <dd className="text-xs text-muted-foreground">{hint}</dd> : null}
    </>
  );
  return (
    <Card className="p-4">
      {href ? (
        <Link href={href} className="block rounded focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring">
          {body}
        </Link>
      ) : (
        body
      )}
    </Card>
  );
}
