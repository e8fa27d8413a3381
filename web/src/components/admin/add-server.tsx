"use client";
import * as React from "react";
import Link from "next/link";
import { Plus } from "lucide-react";
import { CopyButton, SecretOnce } from "@/components/copy-button";
import { Button } from "@/components/ui/button";
import { Dialog, DialogClose, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { adminApi } from "@/lib/admin/api";
import { emptyServer, toCreateServer } from "@/lib/admin/schemas";
import type { CreatedServer } from "@/lib/admin/types";
import { DATABASE_PLACEHOLDER, workerCommand } from "@/lib/admin/worker";
import { ServerForm } from "./server-form";

/** The worker's start command, with a copy button. */
export function WorkerCommand({ serverKey, apiUrl }: { serverKey: string; apiUrl: string }) {
  const command = workerCommand({ managementUrl: window.location.origin, serverKey, apiUrl });
  return (
    <div className="grid gap-2">
      <div className="flex items-center justify-between gap-2">
        <p className="text-sm font-medium">Start the worker on that machine</p>
        <CopyButton text={command} label="Copy command" />
      </div>
      <pre data-testid="worker-command" className="whitespace-pre-wrap break-all rounded-md bg-muted p-3 font-mono text-xs leading-relaxed">
        {command}
      </pre>
      <p className="text-xs text-muted-foreground">
        Replace <code>{DATABASE_PLACEHOLDER}</code> with management&apos;s database URL. The worker registers with this key, the server turns
        active, and heartbeats follow every 5 seconds.
      </p>
    </div>
  );
}

export function AddServer({ onAdded }: { onAdded: () => void }) {
  const [open, setOpen] = React.useState(false);
  const [created, setCreated] = React.useState<CreatedServer | null>(null);
  const change = (next: boolean) => {
    setOpen(next);
    if (!next) setCreated(null);
  };
  return (
    <>
      <Button onClick={() => change(true)}>
        <Plus aria-hidden /> Add server
      </Button>
      <Dialog open={open} onOpenChange={change}>
        <DialogContent className="max-w-2xl">
          <DialogHeader>
            <DialogTitle>{created ? `Server “${created.name}” added` : "Add a server"}</DialogTitle>
            <DialogDescription>
              {created ? "Copy its key now: it is shown only this once." : "A machine that will run a wasp worker. It starts as initializing until its worker registers."}
            </DialogDescription>
          </DialogHeader>
          {created ? (
            <div className="grid gap-4">
              <SecretOnce label="Server key (WASP_SERVER_KEY)" value={created.api_key} />
              <WorkerCommand serverKey={created.api_key} apiUrl={created.api_url} />
              <DialogFooter>
                <Button variant="outline" asChild>
                  <Link href={`/admin/servers/view?id=${created.id}`}>Open the server</Link>
                </Button>
                <DialogClose asChild>
                  <Button>Done</Button>
                </DialogClose>
              </DialogFooter>
            </div>
          ) : (
            <ServerForm
              defaultValues={emptyServer}
              submitLabel="Add server"
              onCancel={() => change(false)}
              onSubmit={async (values) => {
                const server = await adminApi.post<CreatedServer>("/api/admin/servers", toCreateServer(values));
                setCreated(server);
                onAdded();
              }}
            />
          )}
        </DialogContent>
      </Dialog>
    </>
  );
}
