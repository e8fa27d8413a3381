"use client";
import * as React from "react";
import { Button, type ButtonProps } from "@/components/ui/button";
import { Dialog, DialogClose, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { AdminFormError } from "./states";

/**
 * A button that opens a confirmation naming what the action does, then runs it. With
 * `typeToConfirm`, the operator types that word first (for what cannot be undone).
 */
export function ConfirmAction({
  label,
  title,
  description,
  confirmLabel,
  onConfirm,
  variant = "outline",
  destructive = false,
  typeToConfirm,
  icon,
  children,
  buttonProps,
}: {
  label: string;
  title: string;
  description: React.ReactNode;
  confirmLabel: string;
  onConfirm: () => Promise<unknown>;
  variant?: ButtonProps["variant"];
  destructive?: boolean;
  typeToConfirm?: string;
  icon?: React.ReactNode;
  children?: React.ReactNode;
  buttonProps?: ButtonProps;
}) {
  const [open, setOpen] = React.useState(false);
  const [pending, setPending] = React.useState(false);
  const [error, setError] = React.useState<unknown>(null);
  const [typed, setTyped] = React.useState("");
  const id = React.useId();
  const blocked = typeToConfirm !== undefined && typed.trim() !== typeToConfirm;

  const change = (next: boolean) => {
    setOpen(next);
    if (!next) {
      setError(null);
      setTyped("");
    }
  };
  const run = async () => {
    setPending(true);
    setError(null);
    try {
      await onConfirm();
      change(false);
    } catch (e) {
      setError(e);
    } finally {
      setPending(false);
    }
  };
  return (
    <>
      <Button variant={variant} size="sm" onClick={() => change(true)} {...buttonProps}>
        {icon}
        {label}
      </Button>
      <Dialog open={open} onOpenChange={change}>
        <DialogContent>
          <DialogHeader>
            <DialogTitle>{title}</DialogTitle>
            <DialogDescription>{description}</DialogDescription>
          </DialogHeader>
          {children}
          {typeToConfirm !== undefined ? (
            <div className="grid gap-1.5">
              <Label htmlFor={`${id}-confirm`}>
                Type <code className="rounded bg-muted px-1">{typeToConfirm}</code> to confirm
              </Label>
              <Input id={`${id}-confirm`} value={typed} onChange={(e) => setTyped(e.target.value)} autoComplete="off" />
            </div>
          ) : null}
          <AdminFormError error={error} />
          <DialogFooter>
            <DialogClose asChild>
              <Button variant="outline">Cancel</Button>
            </DialogClose>
            <Button variant={destructive ? "destructive" : "default"} disabled={pending || blocked} onClick={run}>
              {pending ? "Working…" : confirmLabel}
            </Button>
          </DialogFooter>
        </DialogContent>
      </Dialog>
    </>
  );
}
