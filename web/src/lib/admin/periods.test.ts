import { describe, expect, it } from "vitest";
import {
  billingCsvName,
  billingCsvUrl,
  billingPeriod,
  formatMoney,
  formatPercent,
  formatPeriod,
  lastMonth,
  parseRange,
  periodDays,
  periodError,
  rangeTick,
  thisMonth,
} from "./periods";

const now = new Date("2026-12-03T10:00:00Z");

describe("billing periods", () => {
  it("this month runs from the 1st to today (UTC)", () => {
    expect(thisMonth(now)).toEqual({ from: "2026-12-01", to: "2026-12-03" });
    // Late on the 31st somewhere west of UTC is already the 1st in UTC.
    expect(thisMonth(new Date("2027-01-01T00:30:00Z"))).toEqual({ from: "2027-01-01", to: "2027-01-01" });
  });

  it("last month is the whole previous calendar month, across a year", () => {
    expect(lastMonth(now)).toEqual({ from: "2026-11-01", to: "2026-11-30" });
    expect(lastMonth(new Date("2027-01-15T00:00:00Z"))).toEqual({ from: "2026-12-01", to: "2026-12-31" });
    expect(lastMonth(new Date("2028-03-10T00:00:00Z"))).toEqual({ from: "2028-02-01", to: "2028-02-29" });
  });

  it("counts both ends", () => {
    expect(periodDays("2026-12-01", "2026-12-03")).toBe(3);
    expect(periodDays("2026-12-03", "2026-12-03")).toBe(1);
    expect(periodDays("2026-01-01", "2026-12-31")).toBe(365);
  });

  it("refuses what the API refuses", () => {
    expect(periodError("2026-12-01", "2026-12-03")).toBeNull();
    expect(periodError("", "2026-12-03")?.field).toBe("from");
    expect(periodError("2026-02-30", "2026-12-03")?.field).toBe("from");
    expect(periodError("2026-12-01", "nope")?.field).toBe("to");
    expect(periodError("2026-12-04", "2026-12-03")).toEqual({ field: "to", message: "The end date must not be before the start date" });
    expect(periodError("2025-01-01", "2026-01-01")).toBeNull(); // 366 days
    expect(periodError("2025-01-01", "2026-01-02")?.message).toMatch(/at most 366 days \(this one 367\)/);
  });

  it("reads the period from the address", () => {
    expect(billingPeriod({}, now)).toEqual({ kind: "this_month", from: "2026-12-01", to: "2026-12-03" });
    expect(billingPeriod({ period: "last_month" }, now)).toEqual({ kind: "last_month", from: "2026-11-01", to: "2026-11-30" });
    expect(billingPeriod({ period: "custom", from: "2026-10-05", to: "2026-11-04" }, now)).toEqual({ kind: "custom", from: "2026-10-05", to: "2026-11-04" });
    // An invalid custom period falls back to this month rather than asking the API for an error.
    expect(billingPeriod({ period: "custom", from: "2026-11-04", to: "2026-10-05" }, now).kind).toBe("this_month");
  });
});

describe("the billing CSV", () => {
  it("links to the export with the period, escaped", () => {
    expect(billingCsvUrl("2026-12-01", "2026-12-03")).toBe("/api/admin/billing/export.csv?from=2026-12-01&to=2026-12-03");
    expect(billingCsvUrl("a&b", "c d")).toBe("/api/admin/billing/export.csv?from=a%26b&to=c+d");
    expect(billingCsvName("2026-12-01", "2026-12-03")).toBe("wasp-billing-2026-12-01-2026-12-03.csv");
  });
});

describe("formats", () => {
  it("writes dollars and percents", () => {
    expect(formatMoney(1234.5)).toBe("$1,234.50");
    expect(formatMoney(0)).toBe("$0.00");
    expect(formatMoney(-12.3)).toBe("-$12.30");
    expect(formatMoney(0.0123, 4)).toBe("$0.0123");
    expect(formatMoney(0.5, 4)).toBe("$0.50");
    expect(formatMoney(null)).toBe("—");
    expect(formatPercent(42.456)).toBe("42.5 %");
    expect(formatPercent(100)).toBe("100 %");
    expect(formatPercent(null)).toBe("—");
  });

  it("writes periods", () => {
    expect(formatPeriod("2026-12-01", "2026-12-03")).toBe("Dec 1 – Dec 3, 2026");
    expect(formatPeriod("2025-12-01", "2026-01-03")).toBe("Dec 1, 2025 – Jan 3, 2026");
    expect(formatPeriod("2026-12-03", "2026-12-03")).toBe("Dec 3, 2026");
  });

  it("takes only the ranges the API knows", () => {
    expect(parseRange("7d")).toBe("7d");
    expect(parseRange("2d")).toBe("24h");
    expect(parseRange(null)).toBe("24h");
  });

  it("labels the time axis by range", () => {
    const t = Date.parse("2026-12-03T10:05:00Z");
    expect(rangeTick("30d", t, "en-US")).toMatch(/^Dec \d$/);
    expect(rangeTick("1h", t, "en-US")).toMatch(/\d\d:\d\d/);
    expect(rangeTick("1h", "not a date")).toBe("");
  });
});
