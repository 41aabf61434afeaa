/**
 * The dashboard (services/api/ui, routes/ui.ts) in a real browser: Debian's chromium driven by
 * playwright-core, against the api and a worker process on the real Postgres, Redis and
 * RabbitMQ. Load, sign in, filter, bulk-cancel, open a failed job, retry it and watch it
 * complete, bulk-retry, and a read-only token's 403 — with no request leaving the origin, no
 * CSP violation and the token never in a URL.
 *
 * Needs /usr/bin/chromium (`apt-get install -y chromium`; .ci/run installs it); skipped with a
 * message when it is missing. `JOBSTACK_SCREENSHOT=docs/dashboard.png` also writes the README's
 * screenshot.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONTENT_SECURITY_POLICY } from "../../../services/api/routes/ui.js";
import type { HandlerRegistry } from "../../../services/handlers/index.js";
import { eventually, killAllWorkers, ROOT, spawnWorker, workerEnv, type WorkerProcess } from "../../../harness/jobstack.js";
import { flakyHandler } from "../../support/handlers/flaky.js";
import { authed, call, createTestDatabase, jsonPost, startStack, type TestDatabase, type TestStack } from "./harness.js";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(`dashboard browser test skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);
}
const FLAKY_MODULE = path.join(ROOT, "test/support/handlers/flaky.ts");
/**
 * What the page shows, polled until it matches. The page refreshes every 2 s and a loaded
 * machine may be slower still: the generous timeout only bounds a failure, it asserts no speed.
 */
const poll = <T>(read: () => Promise<T>) => expect.poll(read, { timeout: 30_000, interval: 100 });

describe("GET /ui (files and headers)", () => {
  let db: TestDatabase;
  let stack: TestStack;
  beforeAll(async () => {
    db = await createTestDatabase();
    stack = await startStack({ databaseUrl: db.url });
  });
  afterAll(async () => {
    await stack?.close();
    await db?.drop();
  });

  it("serves the page, its script and style without a token, each with the strict CSP", async () => {
    for (const [file, type] of [["/ui", "text/html"], ["/ui/", "text/html"], ["/ui/app.js", "text/javascript"], ["/ui/app.css", "text/css"]] as const) {
      const answer = await call(stack.baseUrl + file);
      expect(answer.status, file).toBe(200);
      expect(answer.headers.get("content-type")).toContain(type);
      expect(answer.headers.get("content-security-policy")).toBe(CONTENT_SECURITY_POLICY);
      expect(answer.headers.get("x-content-type-options")).toBe("nosniff");
    }
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'none'");
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe|https?:|\*/);
  });

  it("references only its own files: no inline script or style, nothing from another origin", async () => {
    const html = (await call(stack.baseUrl + "/ui")).text;
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/); // every script has a src
    expect(html).not.toMatch(/\sstyle=|<style|\son[a-z]+=/i);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    const js = (await call(stack.baseUrl + "/ui/app.js")).text;
    expect(js).not.toMatch(/innerHTML|eval\(|new Function|https?:\/\//);
    expect(js).not.toMatch(/localStorage/); // the token stays in this tab's session only
  });

  it("answers 404 for anything else under /ui/", async () => {
    expect((await call(stack.baseUrl + "/ui/../package.json")).status).toBe(404);
    expect((await call(stack.baseUrl + "/ui/index.ts")).status).toBe(404);
  });
});

describe.skipIf(!hasChromium)("dashboard in chromium (skipped without /usr/bin/chromium)", () => {
  let db: TestDatabase;
  let stack: TestStack;
  let worker: WorkerProcess | undefined;
  let profile: string;
  let context: BrowserContext;
  let page: Page;
  const offOrigin: string[] = [];
  const tokenInUrl: string[] = [];
  const consoleErrors: string[] = [];
  let flaky: string[] = [];
  let failing = "";

  const submit = async (type: string, payload: unknown = {}) => {
    const answer = await call(stack.baseUrl + "/jobs", jsonPost(stack.token, { type, payload }));
    expect(answer.status).toBe(202);
    return answer.body.id as string;
  };
  const stateOf = async (id: string) => (await call(stack.baseUrl + `/jobs/${id}`, authed(stack.token))).body.state as string;
  const count = (state: string) => page.locator(`#counts [data-state=${state}] strong`);

  beforeAll(async () => {
    db = await createTestDatabase();
    stack = await startStack({ databaseUrl: db.url });
    // startStack builds a full registry; the api must accept `flaky` jobs the worker can run.
    (stack.deps.handlers as HandlerRegistry).register("flaky", flakyHandler);
    profile = mkdtempSync(path.join(tmpdir(), "jobstack-chromium-"));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
      viewport: { width: 1200, height: 820 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on("request", (request) => {
      const url = request.url();
      if (!url.startsWith(stack.baseUrl + "/")) offOrigin.push(url);
      if (url.includes(stack.token) || url.includes(stack.operatorToken)) tokenInUrl.push(url);
    });
    page.on("console", (message) => {
      if (message.type() === "error") consoleErrors.push(message.text());
    });
    page.on("dialog", (dialog) => void dialog.accept());
  });

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await killAllWorkers();
    await stack?.close();
    await db?.drop();
  });

  it("asks for the token once, then shows counts by state", async () => {
    for (let i = 0; i < 3; i++) await submit("sleep", { ms: 10 });
    await page.goto(stack.baseUrl + "/ui");
    await poll(() => page.locator("#login").isVisible()).toBe(true);
    await page.fill("#token", stack.operatorToken);
    await page.click("#login button[type=submit]");
    await poll(() => count("PENDING").textContent()).toBe("3");
    expect(await page.evaluate('sessionStorage.getItem("jobstack.token")')).toBe(stack.operatorToken);
    // A reload keeps the session: no second prompt.
    await page.reload();
    await poll(() => count("PENDING").textContent()).toBe("3");
    expect(await page.locator("#login").isVisible()).toBe(false);
  });

  it("filters the list and cancels every PENDING job the filter matches", async () => {
    await page.selectOption("#filters select[name=state]", "PENDING");
    await page.fill("#filters input[name=type]", "sleep");
    await page.click("#filters button[type=submit]");
    await poll(() => page.locator("#jobs tbody tr[data-id]").count()).toBe(3);
    await page.click("#bulk-cancel");
    await poll(() => page.locator("#message").textContent()).toBe("cancel: 3 job(s) moved.");
    await poll(() => count("CANCELLED").textContent()).toBe("3");
    await poll(() => page.locator("#jobs td.empty").count()).toBe(1); // no PENDING sleep jobs left
    // A count is a filter too.
    await page.click("#counts [data-state=CANCELLED]");
    await poll(() => page.locator("#jobs tbody tr[data-id] .state.CANCELLED").count()).toBe(3);
    expect(await page.locator("#filters select[name=state]").inputValue()).toBe("CANCELLED");
  });

  it("opens a failed job, retries it, and shows it completing with its timeline", async () => {
    worker = spawnWorker(
      workerEnv(db, stack.queueName, { QUEUE_TYPE: "classic", CACHE_PREFIX: stack.cachePrefix, JOB_HANDLER_MODULES: FLAKY_MODULE }),
    );
    flaky = [await submit("flaky", { order: 1042, customer: "ACME" }), await submit("flaky")];
    failing = await submit("fail", { message: "card declined" });
    for (let i = 0; i < 4; i++) await submit("noop");
    await submit("hash", { rounds: 1000 });
    await eventually("flaky jobs failed", async () => (await Promise.all(flaky.map(stateOf))).every((s) => s === "FAILED"));

    await page.fill("#filters input[name=type]", "");
    await page.selectOption("#filters select[name=state]", "FAILED");
    await page.click("#filters button[type=submit]");
    await poll(() => page.locator("#jobs tbody tr[data-id]").count()).toBe(3);
    await page.click(`#jobs a[href="#job/${flaky[0]}"]`);
    await poll(() => page.locator("#job-title").textContent()).toBe("flaky FAILED");
    expect(await page.locator("#job-payload").textContent()).toContain('"order": 1042');
    expect(await page.locator("#job-outcome-title").textContent()).toBe("Error");
    expect(await page.locator("#job-outcome").textContent()).toContain("first attempt always fails");
    expect(await page.locator("#cancel").isDisabled()).toBe(true);

    await page.click("#retry");
    await poll(() => page.locator("#job-title").textContent()).toBe("flaky COMPLETED");
    expect(await page.locator("#job-outcome").textContent()).toContain('"ok": true');
    const timeline = await page.locator("#timeline li").allTextContents();
    expect(timeline[0]).toMatch(/^created PENDING/);
    expect(timeline.some((t) => /FAILED → PENDING.*manual retry via API/s.test(t))).toBe(true);
    expect(timeline.at(-1)).toMatch(/^RUNNING → COMPLETED/);
    expect(await page.locator("#retry").isDisabled()).toBe(true);
    if (process.env.JOBSTACK_SCREENSHOT) await page.screenshot({ path: process.env.JOBSTACK_SCREENSHOT.replace(/\.png$/, "-job.png"), fullPage: true });
  });

  it("retries every FAILED job the filter matches, and they complete", async () => {
    await page.click("#job-view a[href='#']");
    await page.fill("#filters input[name=type]", "flaky");
    await page.click("#bulk-retry");
    await poll(() => page.locator("#message").textContent()).toBe("retry: 1 job(s) moved.");
    await eventually("the bulk-retried job completed", async () => (await stateOf(flaky[1]!)) === "COMPLETED");
    await page.selectOption("#filters select[name=state]", "");
    await page.click("#filters button[type=submit]");
    await poll(() => count("COMPLETED").textContent()).toBe("7");
    await poll(() => count("FAILED").textContent()).toBe("1"); // the `fail` job, which no retry fixes
  });

  it("tells a submit-and-read token that it may not retry (403)", async () => {
    await page.click("#forget");
    await poll(() => page.locator("#login").isVisible()).toBe(true);
    await page.fill("#token", stack.token);
    await page.click("#login button[type=submit]");
    await page.fill("#filters input[name=type]", "fail");
    await page.click("#bulk-retry");
    await poll(() => page.locator("#message").textContent()).toContain("sign in with the operator token");
    expect(await stateOf(failing)).toBe("FAILED");
  });

  it("made no request outside its origin, broke no CSP rule, and never put a token in a URL", async () => {
    await page.fill("#filters input[name=type]", "");
    await page.selectOption("#filters select[name=state]", "");
    await page.click("#filters button[type=submit]");
    await poll(() => page.locator("#jobs tbody tr[data-id]").count()).toBe(11);
    const target = process.env.JOBSTACK_SCREENSHOT ?? path.join(profile, "dashboard.png");
    await page.screenshot({ path: target });
    expect(statSync(target).size).toBeGreaterThan(10_000);
    expect(offOrigin).toEqual([]);
    expect(tokenInUrl).toEqual([]);
    expect(page.url()).not.toContain(stack.token);
    // The only console errors allowed are the refused requests the 403 test made on purpose.
    expect(consoleErrors.filter((e) => !/status of 403/.test(e))).toEqual([]);
  });

  it("is protected by its CSP: injected inline code does not run", async () => {
    // What a stored-XSS payload in a job would try, were it ever rendered as HTML.
    await page.evaluate(`document.body.insertAdjacentHTML("beforeend", '<img src="/nope" onerror="window.pwned = 1">')`);
    await page.evaluate(`(() => { const s = document.createElement("script"); s.textContent = "window.pwned = 2"; document.body.append(s); })()`);
    await poll(() => Promise.resolve(consoleErrors.filter((e) => /Content Security Policy/.test(e)).length)).toBeGreaterThanOrEqual(2);
    expect(await page.evaluate("window.pwned")).toBeUndefined();
  });

  it("pages through a long list with the api's cursor", async () => {
    for (let i = 0; i < 45; i++) await submit("noop");
    await page.click("#filters button[type=submit]");
    await poll(() => page.locator("#jobs tbody tr[data-id]").count()).toBe(50);
    await page.click("#more");
    await poll(() => page.locator("#jobs tbody tr[data-id]").count()).toBe(56);
    expect(await page.locator("#more").isVisible()).toBe(false);
    const ids = await page.locator("#jobs tbody tr[data-id]").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-id")));
    expect(new Set(ids).size).toBe(56); // no job twice across the two pages
  });
});
