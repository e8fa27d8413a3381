"use client";
import * as React from "react";
import Link from "next/link";
import { useFieldArray, useForm, type FieldValues, type Path, type UseFormReturn } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import type { z } from "zod";
import { Plus, Trash2 } from "lucide-react";
import { PageHeader } from "@/components/app-shell";
import { Field, fieldProps } from "@/components/field";
import { FormError } from "@/components/states";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardContent } from "@/components/ui/card";
import { Input, Textarea } from "@/components/ui/input";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs";
import { api } from "@/lib/api/provider";
import { ApiError } from "@/lib/api/errors";
import type { SentMessage } from "@/lib/api/types";
import { useMode } from "@/lib/mode";
import {
  MEDIA_ACCEPT,
  MEDIA_LIMITS,
  contactSchema,
  locationSchema,
  mediaSchema,
  normalisePhone,
  pollSchema,
  textSchema,
  type MediaKind,
} from "@/lib/schemas";

const KINDS = ["text", "image", "video", "audio", "file", "contact", "location", "poll"] as const;
type Kind = (typeof KINDS)[number];
const KIND_LABELS: Record<Kind, string> = {
  text: "Text",
  image: "Image",
  video: "Video",
  audio: "Audio",
  file: "File",
  contact: "Contact",
  location: "Location",
  poll: "Poll",
};

/** Puts the API's error at the field it names (mapped to the form's name), or returns it. */
function placeApiError<T extends FieldValues>(form: UseFormReturn<T>, error: unknown, map: Record<string, string> = {}): unknown {
  if (error instanceof ApiError && error.field) {
    const name = map[error.field] ?? error.field;
    if (name in form.getValues() || name.includes(".")) {
      const message = error.serverMessage.startsWith(`${error.field}: `) ? error.serverMessage.slice(error.field.length + 2) : error.serverMessage;
      form.setError(name as Path<T>, { type: "server", message: message.charAt(0).toUpperCase() + message.slice(1) });
      return null;
    }
  }
  if (error instanceof ApiError && error.code === "NOT_ON_WHATSAPP" && "phone" in form.getValues()) {
    form.setError("phone" as Path<T>, { type: "server", message: "This number is not on WhatsApp" });
    return null;
  }
  return error;
}

function Sent({ sent }: { sent: SentMessage | null }) {
  if (!sent) return null;
  return (
    <Alert variant="success">
      Sent (message {sent.message_id}).{" "}
      <Link className="font-medium text-primary underline-offset-4 hover:underline" href={`/chats/view?jid=${encodeURIComponent(sent.chat_jid)}`}>
        Open the chat
      </Link>{" "}
      to follow its receipts.
    </Alert>
  );
}

function useSendForm<S extends z.ZodType<FieldValues, FieldValues>>(schema: S, defaults: z.input<S>) {
  const form = useForm<z.input<S>, unknown, z.output<S>>({ resolver: zodResolver(schema as never) as never, defaultValues: defaults as never });
  const [error, setError] = React.useState<unknown>(null);
  const [sent, setSent] = React.useState<SentMessage | null>(null);
  const run = (fn: (v: z.output<S>) => Promise<SentMessage>, map?: Record<string, string>) =>
    form.handleSubmit(async (values) => {
      setError(null);
      setSent(null);
      try {
        setSent(await fn(values));
      } catch (e) {
        setError(placeApiError(form as never, e, map));
      }
    });
  return { form, error, sent, run };
}

function PhoneField({ form, id }: { form: UseFormReturn<{ phone: string } & FieldValues>; id: string }) {
  const error = form.formState.errors.phone?.message as string | undefined;
  return (
    <Field id={id} label="To (phone number or JID)" hint="International format, country code first: +62 812 3456 7890." error={error}>
      <Input {...fieldProps(id, error, true)} inputMode="tel" autoComplete="off" {...form.register("phone")} />
    </Field>
  );
}

function Submit({ pending, label = "Send" }: { pending: boolean; label?: string }) {
  return (
    <div>
      <Button type="submit" disabled={pending}>
        {pending ? "Sending…" : label}
      </Button>
    </div>
  );
}

function TextForm() {
  const { form, error, sent, run } = useSendForm(textSchema, { phone: "", message: "" });
  const e = form.formState.errors;
  const onSubmit = run((v) => api.post<SentMessage>("/api/v1/send/message", { phone: normalisePhone(v.phone), message: v.message }));
  return (
    <form onSubmit={onSubmit} noValidate className="grid gap-4">
      <PhoneField form={form as never} id="text-phone" />
      <Field id="text-message" label="Message" hint="Up to 4096 characters." error={e.message?.message}>
        <Textarea {...fieldProps("text-message", e.message?.message, true)} rows={4} {...form.register("message")} />
      </Field>
      <FormError error={error} />
      <Sent sent={sent} />
      <Submit pending={form.formState.isSubmitting} />
    </form>
  );
}

function MediaForm({ kind }: { kind: MediaKind }) {
  const schema = React.useMemo(() => mediaSchema(kind), [kind]);
  const { form, error, sent, run } = useSendForm(schema, { phone: "", source: "upload", file: undefined, url: "", caption: "" });
  const e = form.formState.errors;
  const source = form.watch("source");
  const onSubmit = run(
    (v) => {
      const data = new FormData();
      data.set("phone", normalisePhone(v.phone));
      if (v.source === "upload" && v.file) data.set(kind, v.file);
      else data.set(`${kind}_url`, (v.url ?? "").trim());
      if (v.caption) data.set("caption", v.caption);
      return api.upload<SentMessage>(`/api/v1/send/${kind}`, data);
    },
    { [kind]: "file", [`${kind}_url`]: "url" },
  );
  const id = (f: string) => `${kind}-${f}`;
  const limit = `${MEDIA_LIMITS[kind] / 1_000_000} MB`;
  const types: Record<MediaKind, string> = {
    image: "JPEG, PNG or WebP",
    video: "MP4, 3GPP or QuickTime",
    audio: "Ogg/Opus, MP3, M4A, AAC, AMR or WAV",
    file: "any type; its name is kept",
  };
  const fileError = e.file?.message as string | undefined;
  return (
    <form onSubmit={onSubmit} noValidate className="grid gap-4">
      <PhoneField form={form as never} id={id("phone")} />
      <fieldset className="grid gap-2">
        <legend className="mb-1 text-sm font-medium">Source</legend>
        <div className="flex gap-4 text-sm">
          <label className="flex items-center gap-2">
            <input type="radio" value="upload" {...form.register("source")} /> Upload a file
          </label>
          <label className="flex items-center gap-2">
            <input type="radio" value="url" {...form.register("source")} /> From a URL
          </label>
        </div>
      </fieldset>
      {source === "upload" ? (
        <Field id={id("file")} label="File" hint={`${types[kind]}, at most ${limit}.`} error={fileError}>
          <Input
            {...fieldProps(id("file"), fileError, true)}
            type="file"
            accept={MEDIA_ACCEPT[kind] || undefined}
            onChange={(ev) => form.setValue("file", ev.target.files?.[0], { shouldValidate: form.formState.isSubmitted })}
          />
        </Field>
      ) : (
        <Field id={id("url")} label="URL" hint={`The server downloads it: ${types[kind]}, at most ${limit}.`} error={e.url?.message}>
          <Input {...fieldProps(id("url"), e.url?.message, true)} type="url" placeholder="https://example.com/file" {...form.register("url")} />
        </Field>
      )}
      {kind !== "audio" ? (
        <Field id={id("caption")} label="Caption (optional)" hint="Up to 1024 characters." error={e.caption?.message}>
          <Textarea {...fieldProps(id("caption"), e.caption?.message, true)} rows={2} {...form.register("caption")} />
        </Field>
      ) : null}
      <FormError error={error} />
      <Sent sent={sent} />
      <Submit pending={form.formState.isSubmitting} />
    </form>
  );
}

function ContactForm() {
  const { form, error, sent, run } = useSendForm(contactSchema, { phone: "", contact_name: "", contact_phone: "" });
  const e = form.formState.errors;
  const onSubmit = run((v) =>
    api.post<SentMessage>("/api/v1/send/contact", { phone: normalisePhone(v.phone), contact_name: v.contact_name, contact_phone: normalisePhone(v.contact_phone) }),
  );
  return (
    <form onSubmit={onSubmit} noValidate className="grid gap-4">
      <PhoneField form={form as never} id="contact-to" />
      <Field id="contact-name" label="Contact's name" error={e.contact_name?.message}>
        <Input {...fieldProps("contact-name", e.contact_name?.message)} {...form.register("contact_name")} />
      </Field>
      <Field id="contact-phone" label="Contact's number" error={e.contact_phone?.message}>
        <Input {...fieldProps("contact-phone", e.contact_phone?.message)} inputMode="tel" {...form.register("contact_phone")} />
      </Field>
      <FormError error={error} />
      <Sent sent={sent} />
      <Submit pending={form.formState.isSubmitting} />
    </form>
  );
}

function LocationForm() {
  const { form, error, sent, run } = useSendForm(locationSchema, { phone: "", latitude: "", longitude: "" });
  const e = form.formState.errors;
  const onSubmit = run((v) =>
    api.post<SentMessage>("/api/v1/send/location", { phone: normalisePhone(v.phone), latitude: Number(v.latitude), longitude: Number(v.longitude) }),
  );
  return (
    <form onSubmit={onSubmit} noValidate className="grid gap-4">
      <PhoneField form={form as never} id="location-phone" />
      <div className="grid gap-4 sm:grid-cols-2">
        <Field id="latitude" label="Latitude (°)" hint="From −90 to 90." error={e.latitude?.message}>
          <Input {...fieldProps("latitude", e.latitude?.message, true)} inputMode="decimal" placeholder="-6.2088" {...form.register("latitude")} />
        </Field>
        <Field id="longitude" label="Longitude (°)" hint="From −180 to 180." error={e.longitude?.message}>
          <Input {...fieldProps("longitude", e.longitude?.message, true)} inputMode="decimal" placeholder="106.8456" {...form.register("longitude")} />
        </Field>
      </div>
      <FormError error={error} />
      <Sent sent={sent} />
      <Submit pending={form.formState.isSubmitting} />
    </form>
  );
}

function PollForm() {
  const { form, error, sent, run } = useSendForm(pollSchema, { phone: "", question: "", options: [{ value: "" }, { value: "" }], max_answer: 1 });
  const options = useFieldArray({ control: form.control, name: "options" });
  const e = form.formState.errors;
  const onSubmit = run((v) =>
    api.post<SentMessage>("/api/v1/send/poll", {
      phone: normalisePhone(v.phone),
      question: v.question,
      options: v.options.map((o) => o.value),
      max_answer: v.max_answer,
    }),
  );
  const optionsError = (e.options?.message ?? e.options?.root?.message) as string | undefined;
  return (
    <form onSubmit={onSubmit} noValidate className="grid gap-4">
      <PhoneField form={form as never} id="poll-phone" />
      <Field id="question" label="Question" hint="Up to 255 characters." error={e.question?.message}>
        <Input {...fieldProps("question", e.question?.message, true)} {...form.register("question")} />
      </Field>
      <fieldset className="grid gap-2">
        <legend className="mb-1 text-sm font-medium">Options (2 to 12)</legend>
        {options.fields.map((f, i) => {
          const err = e.options?.[i]?.value?.message;
          return (
            <div key={f.id} className="flex items-start gap-2">
              <Field id={`option-${i}`} label={<span className="sr-only">Option {i + 1}</span>} error={err} className="flex-1">
                <Input {...fieldProps(`option-${i}`, err)} placeholder={`Option ${i + 1}`} {...form.register(`options.${i}.value`)} />
              </Field>
              <Button variant="ghost" size="icon" aria-label={`Remove option ${i + 1}`} disabled={options.fields.length <= 2} onClick={() => options.remove(i)}>
                <Trash2 aria-hidden />
              </Button>
            </div>
          );
        })}
        {optionsError ? <p className="text-xs font-medium text-destructive">{optionsError}</p> : null}
        <div>
          <Button variant="outline" size="sm" disabled={options.fields.length >= 12} onClick={() => options.append({ value: "" })}>
            <Plus aria-hidden /> Add an option
          </Button>
        </div>
      </fieldset>
      <Field id="max_answer" label="Answers each person may choose" error={e.max_answer?.message}>
        <Input {...fieldProps("max_answer", e.max_answer?.message)} type="number" min={1} max={12} className="w-28" {...form.register("max_answer")} />
      </Field>
      <FormError error={error} />
      <Sent sent={sent} />
      <Submit pending={form.formState.isSubmitting} />
    </form>
  );
}

export default function SendPage() {
  const { mode } = useMode();
  return (
    <>
      <PageHeader
        title="Send a message"
        description={mode === "test" ? "From the test session: the sandbox's contacts receive it and send receipts." : "From your live WhatsApp number."}
      />
      <Card>
        <CardContent className="pt-5">
          <Tabs defaultValue="text">
            <TabsList aria-label="Kind of message">
              {KINDS.map((k) => (
                <TabsTrigger key={k} value={k}>
                  {KIND_LABELS[k]}
                </TabsTrigger>
              ))}
            </TabsList>
            <div className="max-w-xl">
              <TabsContent value="text">
                <TextForm />
              </TabsContent>
              {(["image", "video", "audio", "file"] as const).map((k) => (
                <TabsContent key={k} value={k}>
                  <MediaForm kind={k} />
                </TabsContent>
              ))}
              <TabsContent value="contact">
                <ContactForm />
              </TabsContent>
              <TabsContent value="location">
                <LocationForm />
              </TabsContent>
              <TabsContent value="poll">
                <PollForm />
              </TabsContent>
            </div>
          </Tabs>
        </CardContent>
      </Card>
    </>
  );
}
