/*  @easel/client: a thin layer over the types generated from docs/openapi.json
    (src/schema.d.ts, `npm run generate`) and openapi-fetch.

    - Every call goes through one fetch wrapper that retries 409
      idempotency_key_in_use, 429 and 503 answers after their Retry-After
      (seconds or an HTTP date; without one, 0.5 s doubling), each wait capped
      at maxRetryDelayMs, at most maxRetries times. A connection that fails
      before an answer, and a 503 scheduler_unavailable (the scheduler may have
      done the work), are retried only when the request is safe to repeat (a
      GET, or a POST carrying an Idempotency-Key).
    - createRender / capture / cancelRender send an Idempotency-Key (a random
      UUID unless given); the retries send the same request, so the same key.
    - Any other non-2xx answer is thrown as an EaselError carrying the status
      and the gateway's JSON error {type, code, message, param}.
    - verifyWebhook checks a delivery's signatures exactly as docs/webhooks.md
      describes (X-ASA-Signature and Standard Webhooks, 300 s tolerance). */
import createClient from "openapi-fetch";
import { createHmac, createPublicKey, randomUUID, timingSafeEqual, verify } from "node:crypto";
import type { components, operations, paths } from "./schema.js";

export type { components, operations, paths } from "./schema.js";

type Schemas = components["schemas"];
export type Render = Schemas["Render"];
export type Image = Schemas["Image"];
export type Job = Schemas["Job"];
export type CaptureAccepted = Schemas["CaptureAccepted"];
export type CreateRenderRequest = Schemas["CreateRenderRequest"];
export type CaptureRequest = Schemas["CaptureRequest"];
export type ErrorBody = Schemas["Error"];
export type ErrorDetail = ErrorBody["error"];

/** A non-2xx answer of the API (or a transport failure, status 0). */
export class EaselError extends Error {
  readonly status: number;
  readonly type: ErrorDetail["type"] | "connection_error";
  readonly code: string;
  readonly param: string | null;
  readonly requestId: string | null;
  /** Retry-After of the answer in seconds, when it carried one. */
  readonly retryAfter: number | null;
  /** The parsed JSON error body, or null when the body was not one. */
  readonly body: ErrorBody | null;

  constructor(status: number, body: ErrorBody | null, headers?: Headers, message?: string) {
    const detail = body?.error;
    super(message ?? detail?.message ?? `HTTP ${status}`);
    this.name = "EaselError";
    this.status = status;
    this.type = detail?.type ?? (status === 0 ? "connection_error" : "api_error");
    this.code = detail?.code ?? (status === 0 ? "connection_failed" : "unexpected_response");
    this.param = detail?.param ?? null;
    this.body = body;
    this.requestId = headers?.get("x-request-id") ?? null;
    this.retryAfter = headers ? parseRetryAfter(headers.get("retry-after")) : null;
  }
}

/** waitForRender / waitForJob ran out of time; `last` is the object as last seen. */
export class EaselTimeoutError<T> extends Error {
  readonly last: T;
  constructor(message: string, last: T) {
    super(message);
    this.name = "EaselTimeoutError";
    this.last = last;
  }
}

export interface RetryInfo {
  /** 1 for the first retry */
  attempt: number;
  method: string;
  url: string;
  /** the answer's status, 0 when the connection failed */
  status: number;
  /** the answer's error code, when it was a JSON error */
  code: string | null;
  delayMs: number;
  idempotencyKey: string | null;
}

export interface EaselClientOptions {
  /** e.g. http://127.0.0.1:8080 (default: $EASEL_URL, then that) */
  baseUrl?: string;
  /** sk_... (default: $EASEL_API_KEY) */
  apiKey?: string;
  /** retries of one request (default 4) */
  maxRetries?: number;
  /** the longest wait before one retry, whatever Retry-After says (default 30000) */
  maxRetryDelayMs?: number;
  /** called before each retry (after its delay is known) */
  onRetry?: (info: RetryInfo) => void;
  /** the fetch to use (default globalThis.fetch) */
  fetch?: (input: Request) => Promise<Response>;
}

export interface CallOptions {
  signal?: AbortSignal;
}

export interface CreateOptions extends CallOptions {
  /** sent as Idempotency-Key; a random UUID when not given */
  idempotencyKey?: string;
}

export interface WaitOptions extends CallOptions {
  /** give up (EaselTimeoutError) after this long; default 10 minutes */
  timeoutMs?: number;
  /** seconds of each long poll (`?wait=`, 1-60; default 30) */
  pollWaitS?: number;
}

/** Retry-After as seconds: an integer, or an HTTP date from now. */
export function parseRetryAfter(value: string | null, nowMs: number = Date.now()): number | null {
  if (value === null || value.trim() === "")
    return null;
  const text = value.trim();
  if (/^\d+$/.test(text))
    return Number(text);
  if (!/^[A-Za-z]{3}/.test(text))       // an HTTP date begins with the day's name ("-1" is no date)
    return null;
  const at = Date.parse(text);
  if (Number.isNaN(at))
    return null;
  return Math.max(0, Math.ceil((at - nowMs) / 1000));
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted)
      return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });

async function errorCode(response: Response): Promise<string | null> {
  try {
    const body = (await response.clone().json()) as Partial<ErrorBody>;
    return typeof body?.error?.code === "string" ? body.error.code : null;
  } catch {
    return null;
  }
}

/* The EaselError of a failed answer. openapi-fetch has read the body already
   and hands over what it parsed (`parsed`); a response read by nobody yet
   (download) is read here. */
async function errorFrom(response: Response, parsed?: unknown): Promise<EaselError> {
  let value: unknown = parsed;
  if (value === undefined && !response.bodyUsed) {
    try {
      const text = await response.text();
      try {
        value = JSON.parse(text);
      } catch {
        value = text;
      }
    } catch {
      value = undefined;
    }
  }
  const isError = (v: unknown): v is ErrorBody =>
    typeof v === "object" && v !== null && typeof (v as ErrorBody).error === "object" && (v as ErrorBody).error !== null;
  if (isError(value))
    return new EaselError(response.status, value, response.headers);
  const text = typeof value === "string" ? value : value === undefined ? "" : JSON.stringify(value);
  return new EaselError(response.status, null, response.headers, `HTTP ${response.status}: ${text.slice(0, 200)}`);
}

export class EaselClient {
  /** the openapi-fetch client, typed by src/schema.d.ts, with the same retries */
  readonly api: ReturnType<typeof createClient<paths>>;
  readonly baseUrl: string;
  private readonly apiKey: string;
  private readonly maxRetries: number;
  private readonly maxRetryDelayMs: number;
  private readonly onRetry?: (info: RetryInfo) => void;
  private readonly baseFetch: (input: Request) => Promise<Response>;

  constructor(options: EaselClientOptions = {}) {
    this.baseUrl = (options.baseUrl ?? process.env.EASEL_URL ?? "http://127.0.0.1:8080").replace(/\/+$/, "");
    const key = options.apiKey ?? process.env.EASEL_API_KEY;
    if (!key)
      throw new TypeError("EaselClient needs an apiKey (or EASEL_API_KEY)");
    this.apiKey = key;
    this.maxRetries = options.maxRetries ?? 4;
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 30_000;
    this.onRetry = options.onRetry;
    this.baseFetch = options.fetch ?? ((input: Request) => globalThis.fetch(input));
    this.api = createClient<paths>({
      baseUrl: this.baseUrl,
      headers: { Authorization: `Bearer ${this.apiKey}` },
      fetch: (input: Request) => this.fetchWithRetry(input),
    });
  }

  /** fetch with the retry rules above; the answer of the last attempt is returned as it is. */
  async fetchWithRetry(request: Request): Promise<Response> {
    const key = request.headers.get("idempotency-key");
    const repeatable = request.method === "GET" || request.method === "HEAD" || key !== null;
    for (let attempt = 0; ; attempt++) {
      let response: Response | null = null;
      let failure: unknown = null;
      try {
        response = await this.baseFetch(request.clone());
      } catch (err) {
        if (request.signal.aborted)
          throw err;
        failure = err;
      }
      let code: string | null = null;
      let retry = false;
      if (response === null) {
        retry = repeatable;
      } else if (response.status === 429 || response.status === 503) {
        code = await errorCode(response);
        // a 429 and gateway_busy took nothing; a scheduler that did not answer
        // may have done the work, so only a request safe to repeat goes again
        retry = repeatable || code !== "scheduler_unavailable";
      } else if (response.status === 409) {
        code = await errorCode(response);
        retry = code === "idempotency_key_in_use";
      }
      if (!retry || attempt >= this.maxRetries) {
        if (response)
          return response;
        throw new EaselError(0, null, undefined,
          `${request.method} ${request.url} failed: ${(failure as Error)?.message ?? failure}`);
      }
      const after = response ? parseRetryAfter(response.headers.get("retry-after")) : null;
      const delayMs = Math.min(after !== null ? after * 1000 : 500 * 2 ** attempt, this.maxRetryDelayMs);
      this.onRetry?.({ attempt: attempt + 1, method: request.method, url: request.url,
                       status: response?.status ?? 0, code, delayMs, idempotencyKey: key });
      await response?.body?.cancel().catch(() => undefined);
      await sleep(delayMs, request.signal);
    }
  }

  /** POST /v1/renders. Sync (200, the finished render, or 202 when the sync wait ended) unless body.async. */
  async createRender(body: CreateRenderRequest, options: CreateOptions = {}): Promise<Render> {
    const { data, error, response } = await this.api.POST("/v1/renders", {
      body,
      params: { header: { "Idempotency-Key": options.idempotencyKey ?? randomUUID() } },
      signal: options.signal,
    });
    if (!response.ok || data === undefined)
      throw await errorFrom(response, error);
    return data as Render;
  }

  /** GET /v1/renders/{id}; with waitS, a long poll answering as soon as the render is final. */
  async getRender(id: string, options: CallOptions & { waitS?: number } = {}): Promise<Render> {
    const { data, error, response } = await this.api.GET("/v1/renders/{id}", {
      params: { path: { id }, query: options.waitS !== undefined ? { wait: options.waitS } : undefined },
      signal: options.signal,
    });
    if (!response.ok || data === undefined)
      throw await errorFrom(response, error);
    return data;
  }

  /** Long-polls until the render leaves processing; EaselTimeoutError after timeoutMs. */
  async waitForRender(id: string, options: WaitOptions = {}): Promise<Render> {
    const deadline = Date.now() + (options.timeoutMs ?? 600_000);
    const pollWaitS = Math.min(60, Math.max(1, Math.floor(options.pollWaitS ?? 30)));
    for (;;) {
      const left = Math.ceil((deadline - Date.now()) / 1000);
      const render = await this.getRender(id, { waitS: Math.max(0, Math.min(pollWaitS, left)),
                                               signal: options.signal });
      if (render.status !== "processing")
        return render;
      if (Date.now() >= deadline)
        throw new EaselTimeoutError(`render ${id} is still processing`, render);
    }
  }

  /** POST /v1/renders/{id}/cancel: the canceled render; 409 render_finished once it is final. */
  async cancelRender(id: string, options: CreateOptions = {}): Promise<Render> {
    const { data, error, response } = await this.api.POST("/v1/renders/{id}/cancel", {
      params: { path: { id }, header: { "Idempotency-Key": options.idempotencyKey ?? randomUUID() } },
      signal: options.signal,
    });
    if (!response.ok || data === undefined)
      throw await errorFrom(response, error);
    return data;
  }

  /** POST /v1/capture: the finished job (sync), or {job_id, status: "pending"} (async or a sync wait that ended). */
  async capture(body: CaptureRequest, options: CreateOptions = {}): Promise<Job | CaptureAccepted> {
    const { data, error, response } = await this.api.POST("/v1/capture", {
      body,
      params: { header: { "Idempotency-Key": options.idempotencyKey ?? randomUUID() } },
      signal: options.signal,
    });
    if (!response.ok || data === undefined)
      throw await errorFrom(response, error);
    return data as Job | CaptureAccepted;
  }

  /** GET /v1/jobs/{id}[?wait=]. */
  async getJob(id: string, options: CallOptions & { waitS?: number } = {}): Promise<Job> {
    const { data, error, response } = await this.api.GET("/v1/jobs/{id}", {
      params: { path: { id }, query: options.waitS !== undefined ? { wait: options.waitS } : undefined },
      signal: options.signal,
    });
    if (!response.ok || data === undefined)
      throw await errorFrom(response, error);
    return data;
  }

  /** Long-polls a capture job until it is completed or failed. */
  async waitForJob(id: string, options: WaitOptions = {}): Promise<Job> {
    const deadline = Date.now() + (options.timeoutMs ?? 600_000);
    const pollWaitS = Math.min(60, Math.max(1, Math.floor(options.pollWaitS ?? 30)));
    for (;;) {
      const left = Math.ceil((deadline - Date.now()) / 1000);
      const job = await this.getJob(id, { waitS: Math.max(0, Math.min(pollWaitS, left)), signal: options.signal });
      if (job.status === "completed" || job.status === "failed")
        return job;
      if (Date.now() >= deadline)
        throw new EaselTimeoutError(`job ${id} is not final`, job);
    }
  }

  /** The bytes of a signed file URL (an image's or a capture result's `url`; no API key is sent with it). */
  async download(url: string, options: CallOptions = {}): Promise<Uint8Array> {
    const target = new URL(url, this.baseUrl + "/");
    const response = await this.fetchWithRetry(new Request(target, { signal: options.signal }));
    if (!response.ok)
      throw await errorFrom(response);
    return new Uint8Array(await response.arrayBuffer());
  }

  /** The bytes of one image of a render. */
  async downloadImage(image: Image, options: CallOptions = {}): Promise<Uint8Array> {
    if (!image.url)
      throw new TypeError(`image ${image.id} has no file (status ${image.status})`);
    return this.download(image.url, options);
  }

  /** GET /v1/renders/{id}/archive: the fastlane zip of a final render (409 render_processing before). */
  async downloadArchive(id: string, options: CallOptions = {}): Promise<Uint8Array> {
    const { data, error, response } = await this.api.GET("/v1/renders/{id}/archive", {
      params: { path: { id } },
      parseAs: "arrayBuffer",
      signal: options.signal,
    });
    if (!response.ok || data === undefined)
      throw await errorFrom(response, error);
    return new Uint8Array(data);
  }
}

// ---- webhooks -------------------------------------------------------------

/** A delivery's body: the render (or job) object plus the event fields. */
export interface WebhookEvent {
  type: string;
  event_id: string;
  created_at?: string;
  [field: string]: unknown;
}

export class WebhookVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WebhookVerificationError";
  }
}

export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

export interface VerifyOptions {
  /** the receiver's clock in unix seconds (default now) */
  now?: number;
  /** seconds either way (default 300) */
  toleranceS?: number;
  /** base64 ed25519 public key (GET /v1/account/webhook_public_key): also accept `v1a,` entries */
  ed25519PublicKey?: string;
}

export const WEBHOOK_TOLERANCE_S = 300;

function header(headers: WebhookHeaders, name: string): string | null {
  if (headers instanceof Headers)
    return headers.get(name);
  const want = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() !== want || v === undefined)
      continue;
    return Array.isArray(v) ? v.join(" ") : v;
  }
  return null;
}

function bytesOf(body: string | Uint8Array): Buffer {
  return typeof body === "string" ? Buffer.from(body, "utf8") : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function checkTimestamp(text: string, options: VerifyOptions): number {
  if (!/^\d{1,12}$/.test(text))
    throw new WebhookVerificationError("malformed timestamp");
  const t = Number(text);
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - t) > (options.toleranceS ?? WEBHOOK_TOLERANCE_S))
    throw new WebhookVerificationError("stale timestamp");
  return t;
}

/** X-ASA-Signature: t=<t>,v1=<hex HMAC-SHA256(the whole secret string, "<t>.<body>")>, v1= repeated during a rotation. */
export function verifyAsaSignature(secret: string, value: string, rawBody: string | Uint8Array,
                                   options: VerifyOptions = {}): void {
  const parts = value.split(",").map((p) => p.trim().split("="));
  const ts = parts.filter((p) => p[0] === "t");
  if (ts.length !== 1 || ts[0]?.length !== 2)
    throw new WebhookVerificationError("X-ASA-Signature has no single t=");
  const t = checkTimestamp(ts[0][1] ?? "", options);
  const expected = createHmac("sha256", Buffer.from(secret, "utf8"))
    .update(`${t}.`).update(bytesOf(rawBody)).digest();
  const ok = parts.some((p) => p[0] === "v1" && p.length === 2 && /^[0-9a-f]{64}$/i.test(p[1] ?? "")
                               && sameBytes(Buffer.from(p[1] ?? "", "hex"), expected));
  if (!ok)
    throw new WebhookVerificationError("no X-ASA-Signature v1 matches");
}

/** Standard Webhooks: webhook-signature `v1,<base64 HMAC-SHA256(base64-decoded secret after whsec_, "<id>.<t>.<body>")>` entries. */
export function verifyStandardSignature(secret: string, id: string, timestamp: string, signatures: string,
                                        rawBody: string | Uint8Array, options: VerifyOptions = {}): void {
  if (!/^whsec_[A-Za-z0-9+/]+={0,2}$/.test(secret))
    throw new WebhookVerificationError("the secret must be whsec_<base64>");
  const key = Buffer.from(secret.slice("whsec_".length), "base64");
  if (key.length === 0)
    throw new WebhookVerificationError("malformed secret");
  checkTimestamp(timestamp, options);
  const signed = Buffer.concat([Buffer.from(`${id}.${timestamp}.`, "utf8"), bytesOf(rawBody)]);
  const expected = createHmac("sha256", key).update(signed).digest();
  const entries = signatures.split(" ").filter((s) => s !== "");
  for (const entry of entries) {
    const comma = entry.indexOf(",");
    const version = entry.slice(0, comma), sig = Buffer.from(entry.slice(comma + 1), "base64");
    if (comma > 0 && version === "v1" && sameBytes(sig, expected))
      return;
    if (comma > 0 && version === "v1a" && options.ed25519PublicKey && sig.length === 64) {
      // SubjectPublicKeyInfo of an ed25519 key: a fixed 12-byte prefix, then the 32 bytes
      const raw = Buffer.from(options.ed25519PublicKey, "base64");
      if (raw.length !== 32)
        throw new WebhookVerificationError("the ed25519 public key must be 32 bytes of base64");
      const der = Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), raw]);
      if (verify(null, signed, createPublicKey({ key: der, format: "der", type: "spki" }), sig))
        return;
    }
  }
  throw new WebhookVerificationError("no webhook-signature entry matches");
}

/**
 * Verifies a delivery from the raw body (the bytes received, before any JSON
 * parsing) and returns the parsed event; throws WebhookVerificationError.
 * Every signature scheme present must verify (Easel sends both) and at least
 * one must be: the Standard Webhooks headers (webhook-id, webhook-timestamp,
 * webhook-signature) and X-ASA-Signature. Use the secret exactly as it was
 * printed (whsec_...): trailing whitespace makes it another key.
 */
export function verifyWebhook(secret: string, headers: WebhookHeaders, rawBody: string | Uint8Array,
                              options: VerifyOptions = {}): WebhookEvent {
  const asa = header(headers, "x-asa-signature");
  const sig = header(headers, "webhook-signature");
  if (asa === null && sig === null)
    throw new WebhookVerificationError("no X-ASA-Signature or webhook-signature header");
  if (sig !== null) {
    const id = header(headers, "webhook-id"), ts = header(headers, "webhook-timestamp");
    if (id === null || ts === null)
      throw new WebhookVerificationError("webhook-signature without webhook-id and webhook-timestamp");
    verifyStandardSignature(secret, id, ts, sig, rawBody, options);
  }
  if (asa !== null)
    verifyAsaSignature(secret, asa, rawBody, options);
  let event: unknown;
  try {
    event = JSON.parse(bytesOf(rawBody).toString("utf8"));
  } catch {
    throw new WebhookVerificationError("the body is not JSON");
  }
  if (typeof event !== "object" || event === null || typeof (event as WebhookEvent).type !== "string")
    throw new WebhookVerificationError("the body is not an event object");
  return event as WebhookEvent;
}

