import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  createHandlerRegistry,
  defineHandler,
  HandlerModuleError,
  invalidPayloadMessage,
  loadHandlerModules,
  silentLogger,
  z,
} from "../../../services/handlers/index.js";

const FIXTURES = "./test/fixtures/handler-modules";
const mod = (name: string) => `${FIXTURES}/${name}.ts`;
const context = { databaseUrl: "postgres://unused", workerId: "w", role: "worker" as const };
const ctx = { jobId: "j", claim: 1, attempt: 1, maxAttempts: 3, workerId: "w", signal: new AbortController().signal, logger: silentLogger };

async function load(...names: string[]) {
  const registry = createHandlerRegistry();
  await loadHandlerModules(registry, names.map(mod), context);
  return registry;
}

async function loadError(...specs: string[]): Promise<HandlerModuleError> {
  const err = await loadHandlerModules(createHandlerRegistry(), specs, context).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HandlerModuleError);
  return err as HandlerModuleError;
}

describe("loading handler modules", () => {
  it("registers a default export under the file's name, and named exports under their types", async () => {
    const registry = await load("greet", "several", "legacy");
    expect(registry.types()).toEqual(["double", "fail", "greet", "hash", "legacy-echo", "negate", "noop", "sleep", "square"]);
    expect(registry.originOf("greet")).toBe(mod("greet"));
    expect(registry.originOf("noop")).toBe("builtin");
    const greet = registry.validate("greet", { name: "Ada" });
    expect(greet).toEqual({ ok: true, payload: { name: "Ada" } });
    expect(await registry.get("greet")!.run({ name: "Ada" }, ctx)).toEqual({ greeting: "hello, Ada" });
    expect(await registry.get("legacy-echo")!.run({ a: 1 }, ctx)).toEqual({ echoed: { a: 1 }, role: "worker" });
  });

  it("resolves paths from the given working directory, and absolute paths as they are", async () => {
    const registry = createHandlerRegistry();
    await loadHandlerModules(registry, ["./greet.ts", path.resolve(mod("several"))], context, { cwd: path.resolve(FIXTURES) });
    expect(registry.has("greet") && registry.has("square")).toBe(true);
  });

  it("names a missing file with the path it looked at", async () => {
    const err = await loadError("./handlers/nope.ts");
    expect(err.message).toBe(`handler module ./handlers/nope.ts: file not found (${path.resolve("handlers/nope.ts")})`);
  });

  it("names a missing package and how to install it", async () => {
    const err = await loadError("@acme/no-such-handlers");
    expect(err.message).toMatch(/^handler module @acme\/no-such-handlers: package not found: install it .*npm install --save-exact @acme\/no-such-handlers/);
  });

  it("refuses a module without a handler export, listing what it does export", async () => {
    const err = await loadError(mod("no-export"));
    expect(err.module).toBe(mod("no-export"));
    expect(err.reason).toMatch(/exports no handler: expected `export default defineHandler\(\{…\}\)`.*found exports: helper, version/);
  });

  it("refuses a type registered twice, naming the module that had it first", async () => {
    const err = await loadError(mod("greet"), mod("greet-again"));
    expect(err.message).toBe(`handler module ${mod("greet-again")}: job type "greet" is already registered (by ${mod("greet")})`);
    const builtin = await loadError(mod("shadows-builtin"));
    expect(builtin.reason).toBe('job type "sleep" is already registered (by builtin)');
  });

  it("reports a module that throws at import, or whose register() throws", async () => {
    expect((await loadError(mod("throws"))).message).toBe(`handler module ${mod("throws")}: failed to load: INVOICE_SMTP_HOST is not set`);
    expect((await loadError(mod("register-throws"))).reason).toBe("register() failed: cannot reach the template store");
  });

  it("refuses a named export without a type, and a folder", async () => {
    expect((await loadError(mod("untyped-named"))).reason).toMatch(/export "resize" has no type/);
    expect((await loadError(FIXTURES)).reason).toMatch(/is a folder/);
  });
});

describe("defineHandler", () => {
  it("checks payloads with its schema and names each bad field", () => {
    const registry = createHandlerRegistry({ builtins: false });
    registry.register(
      "send-invoice",
      defineHandler({ payload: z.object({ invoiceId: z.string(), amountCents: z.number().int().positive() }), run: () => null }),
    );
    const bad = registry.validate("send-invoice", { invoiceId: 7, amountCents: -1 });
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.issues.map((i) => i.path)).toEqual(["payload.invoiceId", "payload.amountCents"]);
    expect(bad.message).toBe(invalidPayloadMessage("send-invoice", bad.issues));
    expect(bad.message).toMatch(/^invalid payload for job type "send-invoice": payload\.invoiceId: .*; payload\.amountCents: /);
  });

  it("refuses a definition without a schema or a run function", () => {
    expect(() => defineHandler({ run: () => null } as never)).toThrow(/payload.*zod schema/);
    expect(() => defineHandler({ payload: z.object({}) } as never)).toThrow(/run\(payload, ctx\)/);
  });
});
