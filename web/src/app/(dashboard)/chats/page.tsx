"use client";
import * as React from "react";
import Link from "next/link";
import { useQueryClient } from "@tanstack/react-query";
import { Search } from "lucide-react";
import { PageHeader } from "@/components/app-shell";
import { Empty, ErrorState, Loading } from "@/components/states";
import { Badge } from "@/components/ui/badge";
import { Button, buttonVariants } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import type { Chat } from "@/lib/api/types";
import { useEventStream } from "@/lib/events";
import { formatTime, jidLabel } from "@/lib/format";
import { useMode } from "@/lib/mode";
import { api } from "@/lib/api/provider";
import { useInfiniteQuery } from "@tanstack/react-query";

const PAGE = 30;

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = React.useState(value);
  React.useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

export default function ChatsPage() {
  const { mode } = useMode();
  const qc = useQueryClient();
  const [search, setSearch] = React.useState("");
  const term = useDebounced(search.trim(), 300);
  const chats = useInfiniteQuery({
    queryKey: [mode, "chats", "list", term],
    queryFn: ({ pageParam, signal }) => api.list<Chat>("/api/v1/chats", { query: { limit: PAGE, offset: pageParam, search: term }, signal }),
    initialPageParam: 0,
    getNextPageParam: (last, all) => {
      const loaded = all.reduce((n, p) => n + p.data.length, 0);
      return last.meta && loaded < last.meta.total ? loaded : undefined;
    },
  });
  useEventStream(mode, "message.*", () => qc.invalidateQueries({ queryKey: [mode, "chats"] }));
  const list = chats.data?.pages.flatMap((p) => p.data) ?? [];
  const total = chats.data?.pages[0]?.meta?.total;

  return (
    <>
      <PageHeader title="Chats" description={`Conversations of the ${mode === "test" ? "test" : "live"} session since it was linked.`} />
      <div className="mb-4 max-w-md">
        <Label htmlFor="chat-search" className="sr-only">
          Search chats
        </Label>
        <div className="relative">
          <Search className="pointer-events-none absolute left-3 top-1/2 h-4 w-4 -translate-y-1/2 text-muted-foreground" aria-hidden />
          <Input id="chat-search" type="search" placeholder="Search by name or number" className="pl-9" value={search} onChange={(e) => setSearch(e.target.value)} />
        </div>
      </div>
      {chats.isPending ? <Loading rows={5} /> : null}
      {chats.error ? <ErrorState error={chats.error} onRetry={() => chats.refetch()} /> : null}
      {chats.data && list.length === 0 ? (
        term ? (
          <Empty title="No chat matches your search">Try another name or number.</Empty>
        ) : (
          <Empty
            title="No chats yet"
            action={
              <Link href="/send" className={buttonVariants({ size: "sm" })}>
                Send a message
              </Link>
            }
          >
            Chats appear here when the session sends or receives a message.
          </Empty>
        )
      ) : null}
      {list.length > 0 ? (
        <Card>
          <ul className="divide-y" aria-label="Chats">
            {list.map((c) => (
              <li key={c.jid}>
                <Link
                  href={`/chats/view?jid=${encodeURIComponent(c.jid)}`}
                  className="flex items-center gap-3 px-4 py-3 hover:bg-accent/50 focus-visible:bg-accent focus-visible:outline-none"
                >
                  <span aria-hidden className="flex h-9 w-9 shrink-0 items-center justify-center rounded-full bg-muted text-sm font-medium">
                    {(c.name || jidLabel(c.jid)).replace("+", "").charAt(0).toUpperCase()}
                  </span>
                  <div className="min-w-0 flex-1">
                    <div className="flex items-baseline justify-between gap-2">
                      <p className="truncate font-medium">
                        {c.name || jidLabel(c.jid)}
                        {c.type === "group" ? <span className="ml-2 text-xs text-muted-foreground">group</span> : null}
                      </p>
                      <span className="shrink-0 text-xs text-muted-foreground">{formatTime(c.last_message_at)}</span>
                    </div>
                    <div className="flex items-center justify-between gap-2">
                      <p className="truncate text-sm text-muted-foreground">{c.last_message_preview ?? ""}</p>
                      {c.unread_count > 0 ? <Badge aria-label={`${c.unread_count} unread`}>{c.unread_count}</Badge> : null}
                    </div>
                  </div>
                </Link>
              </li>
            ))}
          </ul>
        </Card>
      ) : null}
      {chats.hasNextPage ? (
        <div className="mt-4 flex items-center gap-3">
          <Button variant="outline" onClick={() => chats.fetchNextPage()} disabled={chats.isFetchingNextPage}>
            {chats.isFetchingNextPage ? "Loading…" : "Load more"}
          </Button>
          {total !== undefined ? (
            <span className="text-sm text-muted-foreground">
              {list.length} of {total}
            </span>
          ) : null}
        </div>
      ) : null}
    </>
  );
}
