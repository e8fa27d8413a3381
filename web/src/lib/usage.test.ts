import { describe, expect, it } from "vitest";
import { fillDays, lastDays } from "./usage";

describe("usage days", () => {
  it("fills the days without activity with zeros", () => {
    const days = fillDays("2026-11-29", "2026-12-02", [
      { date: "2026-11-30", api_requests: 5, messages_sent: 2, messages_received: 1, images_sent: 0, videos_sent: 0, files_sent: 0, bandwidth_in_bytes: 10, bandwidth_out_bytes: 20 },
    ]);
    expect(days.map((d) => [d.date, d.messages_sent])).toEqual([
      ["2026-11-29", 0],
      ["2026-11-30", 2],
      ["2026-12-01", 0],
      ["2026-12-02", 0],
    ]);
  });

  it("counts today in the last n days", () => {
    expect(lastDays(7, new Date("2026-12-03T10:00:00Z"))).toEqual({ from: "2026-11-27", to: "2026-12-03" });
  });
});
