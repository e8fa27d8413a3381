import { describe, expect, it } from "vitest";
import { curlSample, exampleOf, fillPath, javascriptSample, operations, pythonSample, type OpenApiDocument } from "./openapi";

const doc: OpenApiDocument = {
  paths: {
    "/api/v1/send/message": {
      post: {
        tags: ["send"],
        summary: "Send a text",
        requestBody: { content: { "application/json": { schema: { $ref: "#/components/schemas/SendText" } } } },
        responses: { "200": { description: "sent" } },
      },
    },
    "/api/v1/chat/{chat_jid}/messages": {
      get: { tags: ["chat"], parameters: [{ name: "chat_jid", in: "path", required: true }, { name: "limit", in: "query" }] },
    },
    "/api/admin/customers": { get: { tags: ["admin"] } },
  },
  components: {
    schemas: {
      SendText: {
        type: "object",
        required: ["phone", "message"],
        properties: { phone: { type: "string", example: "6281234567890" }, message: { type: "string" }, is_forwarded: { type: "boolean" } },
      },
    },
  },
};

describe("openapi", () => {
  it("lists the customer operations only", () => {
    const ops = operations(doc);
    expect(ops.map((o) => `${o.method} ${o.path}`)).toEqual(["POST /api/v1/send/message", "GET /api/v1/chat/{chat_jid}/messages"]);
    expect(ops[0]!.bodyType).toBe("json");
    expect(ops[1]!.parameters.map((p) => p.name)).toEqual(["chat_jid", "limit"]);
  });

  it("builds an example body of the required fields", () => {
    expect(exampleOf(doc, { $ref: "#/components/schemas/SendText" })).toEqual({ phone: "6281234567890", message: "string" });
  });

  it("writes samples against the page's origin", () => {
    const input = { origin: "https://wasp.example.com", method: "POST", path: "/api/v1/send/message", body: { phone: "1", message: "it's" } };
    expect(curlSample(input)).toBe(
      "curl -s -X POST 'https://wasp.example.com/api/v1/send/message' \\\n  -H \"X-API-Key: $WASP_API_KEY\" \\\n  -H 'Content-Type: application/json' \\\n  -d '{\"phone\":\"1\",\"message\":\"it'\\''s\"}'",
    );
    expect(javascriptSample(input)).toContain('fetch("https://wasp.example.com/api/v1/send/message"');
    expect(pythonSample({ ...input, body: { ok: true, n: null } })).toContain("json={\"ok\":True,\"n\":None}");
    expect(fillPath("/api/v1/chat/{chat_jid}/messages", { chat_jid: "62@s.whatsapp.net" })).toBe("/api/v1/chat/62%40s.whatsapp.net/messages");
  });
});
