// The plans' limits (docs/API.md, "Plans carry request and message limits").
export interface PlanLimits {
  requestsPerMinute: number | null;
  requestsPerHour: number | null;
  requestsPerDay: number | null;
  messagesPerDay: number | null;
}

export const PLANS: Record<string, PlanLimits> = {
  basic: { requestsPerMinute: 60, requestsPerHour: 1_000, requestsPerDay: 10_000, messagesPerDay: 1_000 },
  pro: { requestsPerMinute: 300, requestsPerHour: 5_000, requestsPerDay: 50_000, messagesPerDay: 5_000 },
  business: { requestsPerMinute: 600, requestsPerHour: 15_000, requestsPerDay: 150_000, messagesPerDay: 20_000 },
  enterprise: { requestsPerMinute: null, requestsPerHour: null, requestsPerDay: null, messagesPerDay: null },
};

export function planLimits(plan: string | undefined): PlanLimits {
  return PLANS[plan ?? "basic"] ?? PLANS.basic!;
}

export function planName(plan: string | undefined): string {
  const p = plan ?? "basic";
  return p.charAt(0).toUpperCase() + p.slice(1);
}
