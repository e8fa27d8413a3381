import { describe, expect, it } from "vitest";
import { SseParser, parseWaspEvent } from "./sse";

describe("SseParser", () => {
  it("parses events split across chunks, skipping keep-alive comments", () => {
    const p = new SseParser();
    expect(p.push(": keep-alive\n\nid: evt_1\nevent: message.rec")).toEqual([]);
    const events = p.push('eived\ndata: {"id":"evt_1","event":"message.received",\ndata: "payload":{"body":"hi"}}\n\n');
    expect(events).toHaveLength(1);
    expect(events[0]!.event).toBe("message.received");
    expect(events[0]!.id).toBe("evt_1");
    const doc = parseWaspEvent(events[0]!);
    expect(doc?.payload.body).toBe("hi");
  });

  it("handles CRLF line ends", () => {
    const p = new SseParser();
    const events = p.push('event: stream.lagged\r\ndata: {"missed":3}\r\n\r\n');
    expect(events).toEqual([{ id: undefined, event: "stream.lagged", data: '{"missed":3}' }]);
  });

  it("ignores undecodable data", () => {
    expect(parseWaspEvent({ event: "x", data: "not json" })).toBeNull();
  });
});
