// The operator dashboard (docs/dashboard.md): counts by state, a filtered job list, a job's
// page with its audit timeline, and retry / cancel, single and bulk. Plain browser JavaScript,
// no build step and no dependencies. Data comes from the api's own routes with the bearer token
// the operator entered; the token lives in sessionStorage and only ever travels in the
// Authorization header, never in a URL. Job contents are shown with textContent only.
"use strict";

const TOKEN_KEY = "jobstack.token";
const STATES = ["PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED"];
const REFRESH_MS = 2000;
const PAGE_SIZE = 50;

const $ = (selector) => document.querySelector(selector);
let nextCursor = null; // of the list's last loaded page
let pagesLoaded = 0;
let listRequests = 0; // the newest list request wins; a slower, older answer is dropped
let refreshTimer = null;

/** An element with attributes and children (strings become text, never HTML). */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

const time = (iso) => (iso ? new Date(iso).toLocaleString() : "");
const stateBadge = (state) => el("span", { class: `state ${state}` }, state);

// ── token and requests ───────────────────────────────────────────────────────────────────

const token = () => sessionStorage.getItem(TOKEN_KEY);

function say(text, isError = false) {
  const box = $("#message");
  box.textContent = text;
  box.className = isError ? "error" : "";
  box.hidden = !text;
}

class ApiFailure extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `HTTP ${status}`);
    this.status = status;
  }
}

async function api(path, { method = "GET", body } = {}) {
  const headers = { authorization: `Bearer ${token()}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(path, { method, headers, cache: "no-store", body: body === undefined ? undefined : JSON.stringify(body) });
  const answer = await res.json().catch(() => null);
  if (res.status === 401) signOut("The api refused that token (401). Enter a valid one.");
  if (!res.ok) throw new ApiFailure(res.status, answer);
  return answer;
}

function signIn(event) {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $("#token").value.trim());
  $("#token").value = "";
  say("");
  show();
}

function signOut(why = "") {
  sessionStorage.removeItem(TOKEN_KEY);
  clearTimeout(refreshTimer);
  show();
  say(why, Boolean(why));
}

// ── views ────────────────────────────────────────────────────────────────────────────────

/** Login form without a token; otherwise the list, or a job's page for `#job/<id>`. */
function show() {
  const signedIn = Boolean(token());
  $("#login").hidden = signedIn;
  $("#dashboard").hidden = !signedIn;
  $("#forget").hidden = !signedIn;
  if (!signedIn) return;
  const jobId = currentJobId();
  $("#list-view").hidden = Boolean(jobId);
  $("#job-view").hidden = !jobId;
  pagesLoaded = 0;
  refresh();
}

const currentJobId = () => /^#job\/([0-9a-f-]{36})$/.exec(location.hash)?.[1];

/** Reloads what is on screen, then again every REFRESH_MS (skipped while the tab is hidden). */
async function refresh() {
  clearTimeout(refreshTimer);
  if (document.hidden) {
    refreshTimer = setTimeout(refresh, REFRESH_MS);
    return;
  }
  try {
    const jobId = currentJobId();
    await Promise.all([loadCounts(), jobId ? loadJob(jobId) : pagesLoaded <= 1 ? loadJobs(false) : null]);
  } catch (err) {
    if (token()) say(err.message, true);
  }
  // Several refreshes may have overlapped (a click during a poll): keep exactly one timer.
  clearTimeout(refreshTimer);
  if (token()) refreshTimer = setTimeout(refresh, REFRESH_MS);
}

async function loadCounts() {
  const stats = await api("/jobs/stats");
  const selected = $("#filters").elements.state.value;
  const boxes = STATES.map((state) => {
    const box = el("button", { type: "button", class: `count${state === selected ? " active" : ""}`, "data-state": state },
      el("strong", {}, String(stats.byState?.[state] ?? "?")), stateBadge(state));
    box.addEventListener("click", () => filterByState(state === selected ? "" : state));
    return box;
  });
  const q = stats.queue;
  const queueLine = q
    ? `queue ${q.name}: ${q.ready} ready, ${q.consumers} consumers, ${q.deadLettered} dead-lettered`
    : "queue: RabbitMQ did not answer";
  const oldest = stats.oldestPendingSeconds == null ? "" : ` · oldest pending ${Math.round(stats.oldestPendingSeconds)} s`;
  $("#counts").replaceChildren(...boxes);
  $("#queue").textContent = queueLine + oldest;
}

function filterByState(state) {
  $("#filters").elements.state.value = state;
  if (currentJobId()) location.hash = ""; // back to the list; hashchange refreshes it
  else filterList();
}

function filterList() {
  say("");
  pagesLoaded = 0;
  refresh();
}

/** The filter form as query parameters; datetime-local values are local time, sent as ISO. */
function filterParams({ withState = true } = {}) {
  const form = $("#filters").elements;
  const params = {};
  if (withState && form.state.value) params.state = form.state.value;
  if (form.type.value.trim()) params.type = form.type.value.trim();
  for (const name of ["createdAfter", "createdBefore"]) {
    if (form[name].value) params[name] = new Date(form[name].value).toISOString();
  }
  return params;
}

async function loadJobs(append) {
  const query = new URLSearchParams({ ...filterParams(), limit: String(PAGE_SIZE) });
  if (append && nextCursor) query.set("cursor", nextCursor);
  const request = ++listRequests;
  if (append) pagesLoaded = Math.max(pagesLoaded, 2); // from now on, refreshes leave the list alone
  const page = await api(`/jobs?${query}`);
  if (request !== listRequests) return;
  const rows = page.items.map((job) =>
    el("tr", { "data-id": job.id },
      el("td", { class: "id" }, el("a", { href: `#job/${job.id}` }, job.id)),
      el("td", {}, job.type),
      el("td", {}, stateBadge(job.state)),
      el("td", {}, `${job.attempts} / ${job.maxAttempts}`),
      el("td", {}, time(job.createdAt)),
      el("td", {}, time(job.updatedAt))));
  const body = $("#jobs tbody");
  if (append) body.append(...rows);
  else body.replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: "6", class: "empty" }, "No jobs match."))]));
  nextCursor = page.nextCursor;
  pagesLoaded = append ? pagesLoaded + 1 : 1;
  $("#more").hidden = !nextCursor;
}

async function loadJob(id) {
  const [job, transitions] = await Promise.all([api(`/jobs/${id}`), api(`/jobs/${id}/transitions`)]);
  $("#job-title").replaceChildren(`${job.type} `, stateBadge(job.state));
  const facts = { id: job.id, attempts: `${job.attempts} / ${job.maxAttempts}`, created: time(job.createdAt), updated: time(job.updatedAt) };
  $("#job-facts").replaceChildren(...Object.entries(facts).flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
  $("#job-payload").textContent = JSON.stringify(job.payload ?? null, null, 2);
  const failed = job.error !== null && job.error !== undefined && job.state !== "COMPLETED";
  $("#job-outcome-title").textContent = failed ? "Error" : "Result";
  $("#job-outcome").textContent = JSON.stringify(failed ? job.error : job.result, null, 2);
  $("#retry").disabled = job.state !== "FAILED";
  $("#cancel").disabled = job.state !== "PENDING";
  $("#timeline").replaceChildren(...transitions.map((t) =>
    el("li", { class: t.to },
      t.from ? `${t.from} → ` : "created ", stateBadge(t.to),
      el("small", {}, [time(t.at), `attempt ${t.attempt}`, t.workerId, t.reason].filter(Boolean).join(" · ")))));
}

// ── actions ──────────────────────────────────────────────────────────────────────────────

/** Runs an operator action and says what happened; 403 means the token may only read. */
async function act(path, body, done) {
  try {
    const answer = await api(path, { method: "POST", body });
    say(done(answer));
  } catch (err) {
    if (err.status === 403) say("This token may submit and read only: sign in with the operator token to retry or cancel.", true);
    else if (token()) say(err.message, true);
  }
  refresh();
}

function bulk(action, source) {
  const filter = filterParams({ withState: false });
  if (Object.keys(filter).length === 0) {
    say(`Narrow the filter by type or creation time first: a bulk ${action} never applies to every job.`, true);
    return;
  }
  const what = Object.entries(filter).map(([k, v]) => `${k}=${v}`).join(", ");
  if (!confirm(`${action} every ${source} job with ${what}?`)) return;
  act(`/jobs/${action}`, { filter }, (r) => `${action}: ${r.moved} job(s) moved.`);
}

function wire() {
  $("#login").addEventListener("submit", signIn);
  $("#forget").addEventListener("click", () => signOut());
  $("#filters").addEventListener("submit", (event) => {
    event.preventDefault();
    filterList();
  });
  $("#more").addEventListener("click", () => loadJobs(true).catch((err) => say(err.message, true)));
  $("#retry").addEventListener("click", () => act(`/jobs/${currentJobId()}/retry`, undefined, () => "Retried: the job is PENDING again, and this page follows it."));
  $("#cancel").addEventListener("click", () => act(`/jobs/${currentJobId()}/cancel`, undefined, () => "Cancelled."));
  $("#bulk-retry").addEventListener("click", () => bulk("retry", "FAILED"));
  $("#bulk-cancel").addEventListener("click", () => bulk("cancel", "PENDING"));
  window.addEventListener("hashchange", () => {
    say("");
    show();
  });
  show();
}

wire();
