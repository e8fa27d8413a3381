import { describe, expect, it } from "vitest";
import {
  changePasswordSchema,
  contactSchema,
  isRecipient,
  locationSchema,
  mediaSchema,
  normalisePhone,
  pollSchema,
  profileSchema,
  registerSchema,
  textSchema,
} from "./schemas";

function messages(r: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } }) {
  return Object.fromEntries((r.error?.issues ?? []).map((i) => [i.path.join("."), i.message]));
}

describe("recipients", () => {
  it("accepts international numbers however written, and JIDs", () => {
    for (const ok of ["6281234567890", "+62 812-3456-7890", "(62) 812.3456.7890", "120363025246125486@g.us", "6289876543210@s.whatsapp.net"]) {
      expect(isRecipient(ok), ok).toBe(true);
    }
    for (const bad of ["", "0812345678", "12345", "+62 abc", "1234567890123456", "a@example.com"]) {
      expect(isRecipient(bad), bad).toBe(false);
    }
    expect(normalisePhone("+62 812-3456-7890")).toBe("+6281234567890");
  });
});

describe("send forms", () => {
  it("text: 1 to 4096 characters", () => {
    expect(textSchema.safeParse({ phone: "+6281234567890", message: "hi" }).success).toBe(true);
    const r = textSchema.safeParse({ phone: "0812", message: "x".repeat(4097) });
    expect(messages(r)).toMatchObject({ phone: expect.stringMatching(/international format/), message: "At most 4096 characters" });
  });

  it("media: a file within its kind's limit, or an http(s) URL", () => {
    const schema = mediaSchema("image");
    const big = new File([new Uint8Array(5_000_001)], "big.png", { type: "image/png" });
    expect(messages(schema.safeParse({ phone: "6281234567890", source: "upload", file: big }))).toEqual({
      file: "The file is too large: at most 5 MB",
    });
    expect(messages(schema.safeParse({ phone: "6281234567890", source: "upload" }))).toEqual({ file: "Choose a file" });
    expect(messages(schema.safeParse({ phone: "6281234567890", source: "url", url: "ftp://x" }))).toEqual({
      url: "Enter an http or https URL",
    });
    expect(schema.safeParse({ phone: "6281234567890", source: "url", url: "https://example.com/a.png" }).success).toBe(true);
    expect(messages(mediaSchema("audio").safeParse({ phone: "6281234567890", source: "url", url: "https://e.com/a.ogg", caption: "x" }))).toEqual({
      caption: "Audio has no caption",
    });
  });

  it("location: coordinates in range", () => {
    expect(locationSchema.safeParse({ phone: "6281234567890", latitude: "-6.2", longitude: "106.8" }).success).toBe(true);
    expect(messages(locationSchema.safeParse({ phone: "6281234567890", latitude: "91", longitude: "abc" }))).toEqual({
      latitude: "The latitude is a number from -90 to 90",
      longitude: "The longitude is a number from -180 to 180",
    });
  });

  it("poll: 2 to 12 different options, max_answer within them", () => {
    const base = { phone: "6281234567890", question: "Lunch?" };
    expect(pollSchema.safeParse({ ...base, options: [{ value: "A" }, { value: "B" }], max_answer: "1" }).success).toBe(true);
    expect(messages(pollSchema.safeParse({ ...base, options: [{ value: "A" }, { value: "a" }], max_answer: 3 }))).toEqual({
      "options.1.value": "Options must differ",
      max_answer: "At most the number of options",
    });
    expect(messages(pollSchema.safeParse({ ...base, options: [{ value: "A" }], max_answer: 1 }))).toMatchObject({
      options: "Give at least 2 options",
    });
  });

  it("contact: a name and a number", () => {
    expect(messages(contactSchema.safeParse({ phone: "6281234567890", contact_name: "", contact_phone: "x@g.us" }))).toEqual({
      contact_name: "Enter the contact's name",
      contact_phone: "Enter a number in international format, country code first",
    });
  });
});

describe("account forms", () => {
  it("passwords: long enough, confirmed, different from the current one", () => {
    expect(messages(registerSchema.safeParse({ email: "a@b.co", password: "short", confirm: "x" }))).toEqual({
      password: "Use at least 12 characters",
      confirm: "The passwords do not match",
    });
    expect(
      messages(changePasswordSchema.safeParse({ current_password: "same-password-1", new_password: "same-password-1", confirm: "same-password-1" })),
    ).toEqual({ new_password: "Choose a password different from the current one" });
  });
});

describe("profile", () => {
  const ok = { name: " Ana Lima ", company: "", timezone: "Asia/Jakarta", language: "pt-BR" };
  it("takes a trimmed name, an empty company, a zone and a tag", () => {
    const r = profileSchema.safeParse(ok);
    expect(r.success).toBe(true);
    expect(r.data?.name).toBe("Ana Lima");
  });
  it("names the field of each mistake, as the API does", () => {
    expect(messages(profileSchema.safeParse({ ...ok, name: "x".repeat(256) }))).toEqual({ name: "Use at most 255 characters" });
    expect(messages(profileSchema.safeParse({ ...ok, company: "bell\u0007" }))).toEqual({ company: "Use letters, digits and punctuation only" });
    expect(messages(profileSchema.safeParse({ ...ok, timezone: "Mars/Olympus Mons" }))).toEqual({
      timezone: "Choose a time zone such as Asia/Jakarta or UTC",
    });
    expect(messages(profileSchema.safeParse({ ...ok, timezone: "" })).timezone).toMatch(/^Choose a time zone/);
    expect(messages(profileSchema.safeParse({ ...ok, language: "english!" }))).toEqual({ language: "Enter a language tag such as en or pt-BR" });
  });
});
