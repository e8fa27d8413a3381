export function Logo() {
  return (
    <span aria-hidden className="inline-flex h-7 w-7 items-center justify-center rounded-md bg-primary text-sm font-bold text-primary-foreground">
      w
    </span>
  );
}
