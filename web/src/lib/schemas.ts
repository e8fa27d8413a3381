// Form rules, mirroring the API's validation so most mistakes are caught before a request
// (the API's own answer is still shown at the field it names).
import { z } from "zod";

export const email = z.string().trim().min(1, "Enter your e-mail address").email("Enter a valid e-mail address");

export const PASSWORD_MIN = 12;
export const newPassword = z
  .string()
  .min(PASSWORD_MIN, `Use at least ${PASSWORD_MIN} characters`)
  .max(128, "Use at most 128 characters");

/** A recipient: a phone number in international format, or a WhatsApp JID. */
export function isRecipient(value: string): boolean {
  const v = value.trim();
  if (/^[^@\s]+@(s\.whatsapp\.net|g\.us|lid|newsletter)$/.test(v)) return true;
  const digits = v.replace(/[\s+\-.()]/g, "");
  return /^[1-9][0-9]{7,14}$/.test(digits);
}

export const recipient = z
  .string()
  .trim()
  .min(1, "Enter a phone number")
  .refine(isRecipient, "Enter a number in international format, country code first (e.g. +62 812 3456 7890)");

export const phoneNumber = z
  .string()
  .trim()
  .min(1, "Enter a phone number")
  .refine((v) => !v.includes("@") && isRecipient(v), "Enter a number in international format, country code first");

export const loginSchema = z.object({
  email,
  password: z.string().min(1, "Enter your password"),
});

export const registerSchema = z
  .object({
    email,
    name: z.string().trim().max(200).optional(),
    company: z.string().trim().max(200).optional(),
    password: newPassword,
    confirm: z.string(),
  })
  .refine((v) => v.password === v.confirm, { path: ["confirm"], message: "The passwords do not match" });

export const forgotSchema = z.object({ email });

export const resetSchema = z
  .object({ password: newPassword, confirm: z.string() })
  .refine((v) => v.password === v.confirm, { path: ["confirm"], message: "The passwords do not match" });

export const changePasswordSchema = z
  .object({
    current_password: z.string().min(1, "Enter your current password"),
    new_password: newPassword,
    confirm: z.string(),
  })
  .refine((v) => v.new_password === v.confirm, { path: ["confirm"], message: "The passwords do not match" })
  .refine((v) => v.new_password !== v.current_password, {
    path: ["new_password"],
    message: "Choose a password different from the current one",
  });

// The profile a customer changes themselves (PATCH /api/customer/auth/me): the API trims,
// allows 255 printable characters, an IANA time zone and a language tag.
const printable = (v: string) => !/[\u0000-\u001f\u007f-\u009f]/.test(v);
const profileText = z
  .string()
  .trim()
  .max(255, "Use at most 255 characters")
  .refine(printable, "Use letters, digits and punctuation only");

export const profileSchema = z.object({
  name: profileText,
  company: profileText,
  timezone: z
    .string()
    .trim()
    .min(1, "Choose a time zone")
    .max(50, "Use at most 50 characters")
    .regex(/^[A-Za-z0-9/_+-]+$/, "Choose a time zone such as Asia/Jakarta or UTC"),
  language: z
    .string()
    .trim()
    .regex(/^[A-Za-z-]{2,10}$/, "Enter a language tag such as en or pt-BR"),
});

export const textSchema = z.object({
  phone: recipient,
  message: z.string().min(1, "Write a message").max(4096, "At most 4096 characters"),
});

export const MEDIA_KINDS = ["image", "video", "audio", "file"] as const;
export type MediaKind = (typeof MEDIA_KINDS)[number];

/** Largest file per kind, in bytes (docs/API.md, Media). */
export const MEDIA_LIMITS: Record<MediaKind, number> = {
  image: 5_000_000,
  video: 10_000_000,
  audio: 10_000_000,
  file: 10_000_000,
};

export const MEDIA_ACCEPT: Record<MediaKind, string> = {
  image: "image/jpeg,image/png,image/webp",
  video: "video/mp4,video/3gpp,video/quicktime",
  audio: "audio/ogg,audio/mpeg,audio/mp4,audio/aac,audio/amr,audio/wav,audio/x-wav",
  file: "",
};

export const httpUrl = z
  .string()
  .trim()
  .refine((v) => {
    try {
      const u = new URL(v);
      return u.protocol === "http:" || u.protocol === "https:";
    } catch {
      return false;
    }
  }, "Enter an http or https URL");

export function mediaSchema(kind: MediaKind) {
  return z
    .object({
      phone: recipient,
      source: z.enum(["upload", "url"]),
      file: z.custom<File | undefined>().optional(),
      url: z.string().optional(),
      caption: z.string().max(1024, "At most 1024 characters").optional(),
    })
    .superRefine((v, ctx) => {
      if (v.source === "upload") {
        if (!v.file) {
          ctx.addIssue({ code: "custom", path: ["file"], message: "Choose a file" });
        } else if (v.file.size > MEDIA_LIMITS[kind]) {
          ctx.addIssue({
            code: "custom",
            path: ["file"],
            message: `The file is too large: at most ${MEDIA_LIMITS[kind] / 1_000_000} MB`,
          });
        }
      } else {
        const r = httpUrl.safeParse(v.url ?? "");
        if (!r.success) ctx.addIssue({ code: "custom", path: ["url"], message: "Enter an http or https URL" });
      }
      if (kind === "audio" && v.caption) {
        ctx.addIssue({ code: "custom", path: ["caption"], message: "Audio has no caption" });
      }
    });
}

export const contactSchema = z.object({
  phone: recipient,
  contact_name: z.string().trim().min(1, "Enter the contact's name").max(100, "At most 100 characters"),
  contact_phone: phoneNumber,
});

const coordinate = (min: number, max: number, label: string) =>
  z
    .string()
    .trim()
    .min(1, `Enter the ${label}`)
    .refine((v) => {
      const n = Number(v);
      return Number.isFinite(n) && n >= min && n <= max;
    }, `The ${label} is a number from ${min} to ${max}`);

export const locationSchema = z.object({
  phone: recipient,
  latitude: coordinate(-90, 90, "latitude"),
  longitude: coordinate(-180, 180, "longitude"),
});

export const pollSchema = z
  .object({
    phone: recipient,
    question: z.string().trim().min(1, "Write a question").max(255, "At most 255 characters"),
    options: z
      .array(z.object({ value: z.string().trim().min(1, "Write the option").max(100, "At most 100 characters") }))
      .min(2, "Give at least 2 options")
      .max(12, "At most 12 options"),
    max_answer: z.coerce.number<string | number>().int().min(1, "At least 1"),
  })
  .superRefine((v, ctx) => {
    const seen = new Set<string>();
    v.options.forEach((o, i) => {
      const key = o.value.trim().toLowerCase();
      if (key && seen.has(key)) ctx.addIssue({ code: "custom", path: ["options", i, "value"], message: "Options must differ" });
      seen.add(key);
    });
    if (v.max_answer > v.options.length) {
      ctx.addIssue({ code: "custom", path: ["max_answer"], message: "At most the number of options" });
    }
  });

export const SCOPES = [
  "*",
  "messages:send",
  "messages:read",
  "chats:read",
  "groups:manage",
  "session:manage",
  "webhooks:manage",
  "keys:manage",
  "usage:read",
] as const;

export const createKeySchema = z.object({
  name: z.string().trim().min(1, "Name the key (e.g. CI, production server)").max(100, "At most 100 characters"),
  mode: z.enum(["live", "test"]),
  scopes: z.array(z.enum(SCOPES)).min(1, "Choose at least one scope"),
});

export const WEBHOOK_EVENTS = [
  "*",
  "message.*",
  "message.received",
  "message.sent",
  "message.delivered",
  "message.read",
  "message.failed",
  "message.reaction",
  "chat.presence",
  "call.offer",
  "group.*",
  "session.*",
  "webhook.test",
] as const;

export const webhookSchema = z.object({
  url: httpUrl,
  description: z.string().trim().max(200, "At most 200 characters").optional(),
  events: z.array(z.string()).min(1, "Choose at least one event"),
});

export const scanSchema = z.object({ phone: z.union([z.literal(""), phoneNumber]) });

export const inboundSchema = z.object({
  from: phoneNumber,
  message: z.string().min(1, "Write a message").max(4096, "At most 4096 characters"),
  push_name: z.string().trim().max(100, "At most 100 characters").optional(),
});

/** The `phone` field of the send APIs: digits of a number, or the JID as written. */
export function normalisePhone(value: string): string {
  const v = value.trim();
  if (v.includes("@")) return v;
  return v.replace(/[\s\-.()]/g, "");
}
