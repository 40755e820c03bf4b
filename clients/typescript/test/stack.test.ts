// EaselClient against a running stack (tests/integration/it_client_typescript.py
// starts it): EASEL_URL and EASEL_API_KEY name the gateway and a key,
// EASEL_WEBHOOK_SECRET the account's secret, EASEL_LIMITED_URL a second
// gateway of the same stack started with --max-waiters 1 and
// --create-rate-limit 0.5:1 (so it answers 503 and 429 for real), and
// EASEL_UNAVAILABLE_URL a gateway with no scheduler behind it (503
// scheduler_unavailable on every authenticated request).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import {
  EaselClient, EaselError, verifyWebhook, WebhookVerificationError,
  type CreateRenderRequest, type RetryInfo,
} from "../src/index.js";
import { HookReceiver, pngHeader, ShotServer } from "./util.js";

const url = process.env.EASEL_URL;
const key = process.env.EASEL_API_KEY;
const secret = process.env.EASEL_WEBHOOK_SECRET;
const limitedUrl = process.env.EASEL_LIMITED_URL;
const unavailableUrl = process.env.EASEL_UNAVAILABLE_URL;
const skip = !url || !key ? "EASEL_URL and EASEL_API_KEY are not set (run it_client_typescript)" : false;

// a guard so a stuck test fails with its name, not the whole run at ctest's timeout
const TEST_TIMEOUT_MS = 90_000;

let shots: ShotServer;
let hooks: HookReceiver;
let easel: EaselClient;

before(async () => {
  if (skip)
    return;
  shots = await new ShotServer().start();
  hooks = await new HookReceiver().start();
  easel = new EaselClient({ baseUrl: url, apiKey: key });
});

after(() => {
  shots?.close();
  hooks?.close();
});

function spec(shotUrl: string, extra: Partial<CreateRenderRequest> = {}): CreateRenderRequest {
  return {
    canvas: { width: 300, height: 600 },
    slides: [{ headline: { lines: ["Track every habit"] }, device: "iphone", screenshot: { url: shotUrl } }],
    ...extra,
  } as CreateRenderRequest;
}

function retriesInto(list: RetryInfo[]): (info: RetryInfo) => void {
  return (info) => list.push(info);
}

test("a sync create answers the finished render; its image downloads as the PNG it describes", { skip, timeout: TEST_TIMEOUT_MS }, async () => {
  const render = await easel.createRender(spec(shots.url("/shot.png")));
  assert.equal(render.object, "render");
  assert.match(render.id, /^rnd_/);
  assert.equal(render.status, "succeeded");
  const image = render.images?.[0];
  assert.ok(image, "the render has an image");
  assert.equal(image.status, "succeeded");
  const bytes = await easel.downloadImage(image);
  const head = pngHeader(bytes);
  assert.equal(head.width, image.width);
  assert.equal(head.height, image.height);
  assert.equal(head.width, 300);
  assert.equal(head.height, 600);
  assert.equal(head.colorType, 2, "RGB without alpha");
  assert.equal(createHash("sha256").update(bytes).digest("hex"), image.sha256);
});

test("an async create answers processing; waitForRender long-polls it to succeeded; the archive is a zip", { skip, timeout: TEST_TIMEOUT_MS }, async () => {
  const accepted = await easel.createRender(spec(shots.url("/shot.png"), { async: true }));
  assert.equal(accepted.status, "processing");
  assert.equal(accepted.polling_url, `/v1/renders/${accepted.id}`);
  const render = await easel.waitForRender(accepted.id, { pollWaitS: 20 });
  assert.equal(render.id, accepted.id);
  assert.equal(render.status, "succeeded");
  assert.equal(render.progress?.done, 1);
  const zip = await easel.downloadArchive(render.id);
  assert.deepEqual([...zip.subarray(0, 4)], [0x50, 0x4b, 0x03, 0x04], "a zip local file header");
  assert.ok(Buffer.from(zip).includes(Buffer.from("easel-report.json")), "the archive holds easel-report.json");
});

test("the same Idempotency-Key twice makes one render", { skip, timeout: TEST_TIMEOUT_MS }, async () => {
  const body = spec(shots.url("/shot.png?idem"), { async: true });
  const first = await easel.createRender(body, { idempotencyKey: "ts-client-idem-1" });
  const again = await easel.createRender(body, { idempotencyKey: "ts-client-idem-1" });
  assert.equal(again.id, first.id);
  const other = await easel.createRender(body);
  assert.notEqual(other.id, first.id, "a create without a key gets a fresh key each time");
  await easel.waitForRender(first.id);
  await easel.waitForRender(other.id);
});

test("cancel of a processing render answers it canceled; a second cancel is 409 render_finished", { skip, timeout: TEST_TIMEOUT_MS }, async (t) => {
  t.after(() => shots.release("cancel"));
  const accepted = await easel.createRender(spec(shots.heldUrl("cancel"), { async: true }));
  await shots.requested("cancel");
  const canceled = await easel.cancelRender(accepted.id);
  assert.equal(canceled.id, accepted.id);
  assert.equal(canceled.status, "canceled");
  const err = await easel.cancelRender(accepted.id).then(() => null, (e: unknown) => e);
  assert.ok(err instanceof EaselError, `a second cancel throws an EaselError, not ${err}`);
  assert.equal(err.status, 409);
  assert.equal(err.code, "render_finished");
  assert.equal(err.param, "id");
  assert.match(err.message, /canceled/);
  shots.release("cancel");
  assert.equal((await easel.getRender(accepted.id)).status, "canceled");
});

test("a 422 is thrown as an EaselError with the gateway's error object", { skip, timeout: TEST_TIMEOUT_MS }, async () => {
  const err = await easel.createRender(spec(shots.url("/shot.png"), { canvas: { width: 50, height: 600 } }))
    .then(() => null, (e: unknown) => e);
  assert.ok(err instanceof EaselError);
  assert.equal(err.status, 422);
  assert.equal(err.type, "invalid_request_error");
  assert.equal(err.code, "parameter_invalid");
  assert.equal(err.param, "canvas.width");
  assert.match(err.requestId ?? "", /^req_/);
  assert.deepEqual(Object.keys(err.body?.error ?? {}).sort(), ["code", "message", "param", "type"]);
  assert.equal(err.body?.error.message, err.message);
});

test("an unknown key is 401 invalid_api_key; an unknown render 404 resource_missing naming id", { skip, timeout: TEST_TIMEOUT_MS }, async () => {
  const stranger = new EaselClient({ baseUrl: url, apiKey: "sk_not_a_key_of_this_stack" });
  const e401 = await stranger.getRender("rnd_01KNS1WNPW9FCHZSK4XNTHMB0J").then(() => null, (e: unknown) => e);
  assert.ok(e401 instanceof EaselError);
  assert.equal(e401.status, 401);
  assert.equal(e401.code, "invalid_api_key");
  assert.equal(e401.body?.error.type, e401.type);
  const e404 = await easel.getRender("rnd_01KNS1WNPW9FCHZSK4XNTHMB0J").then(() => null, (e: unknown) => e);
  assert.ok(e404 instanceof EaselError);
  assert.equal(e404.status, 404);
  assert.equal(e404.code, "resource_missing");
  assert.equal(e404.param, "id");
});

test("429 rate_limited is retried after its Retry-After with the same Idempotency-Key", { skip: skip || !limitedUrl, timeout: TEST_TIMEOUT_MS }, async () => {
  const retries: RetryInfo[] = [];
  const limited = new EaselClient({ baseUrl: limitedUrl, apiKey: key, onRetry: retriesInto(retries) });
  const body = spec(shots.url("/shot.png?limited"), { async: true });
  // burst 1, one token every 2 s: the create after the first finds the bucket empty (429), waits, goes through
  const made = [await limited.createRender(body)];
  while (!retries.some((r) => r.status === 429) && made.length < 5)
    made.push(await limited.createRender(body));
  const first = made[0]!, second = made[made.length - 1]!;
  assert.notEqual(second.id, first.id);
  const r429 = retries.filter((r) => r.status === 429);
  assert.ok(r429.length >= 1, `a create was retried after a 429: ${JSON.stringify(retries)}`);
  assert.equal(r429[0]?.code, "rate_limited");
  assert.ok((r429[0]?.delayMs ?? 0) >= 1000, "the wait is the Retry-After (whole seconds, at least 1)");
  // the retried request carried the key the render was made with: the key replays that render
  const keyUsed = r429[0]?.idempotencyKey;
  assert.ok(keyUsed);
  const replay = await easel.createRender(body, { idempotencyKey: keyUsed });
  assert.equal(replay.id, second.id);

  // without retries the 429 itself is thrown, with its Retry-After
  const once = new EaselClient({ baseUrl: limitedUrl, apiKey: key, maxRetries: 0 });
  const err = await once.createRender(body).then(() => null, (e: unknown) => e);
  assert.ok(err instanceof EaselError);
  assert.equal(err.status, 429);
  assert.equal(err.type, "rate_limit_error");
  assert.equal(err.code, "rate_limited");
  assert.ok((err.retryAfter ?? 0) >= 1);

  // the wait is capped: Retry-After says 2 s, the client waits maxRetryDelayMs and gives up after one retry
  const capped: RetryInfo[] = [];
  const impatient = new EaselClient({ baseUrl: limitedUrl, apiKey: key, maxRetries: 1, maxRetryDelayMs: 300,
                                      onRetry: retriesInto(capped) });
  let refused: unknown = null;
  for (let i = 0; i < 5 && !(refused instanceof EaselError); i++) {
    const r = await impatient.createRender(body).then((x) => { made.push(x); return null; }, (e: unknown) => e);
    refused = r;
  }
  assert.ok(refused instanceof EaselError, "a create refused twice in 300 ms throws");
  assert.equal(refused.status, 429);
  assert.ok(capped.length >= 1 && capped.every((r) => r.status === 429 && r.delayMs === 300),
            `every wait is the cap: ${JSON.stringify(capped)}`);
  for (const r of made)
    await easel.waitForRender(r.id);
});

test("503 too_many_waiting is retried after its Retry-After", { skip: skip || !limitedUrl, timeout: TEST_TIMEOUT_MS }, async (t) => {
  t.after(() => shots.release("waiters"));
  const accepted = await easel.createRender(spec(shots.heldUrl("waiters"), { async: true }));
  await shots.requested("waiters");
  // the limited gateway has one waiting place: a holder long-polls it (retrying itself when refused)
  const holder = new EaselClient({ baseUrl: limitedUrl, apiKey: key, maxRetries: 30 });
  const held = holder.waitForRender(accepted.id, { pollWaitS: 30 });
  const probe = new EaselClient({ baseUrl: limitedUrl, apiKey: key, maxRetries: 0 });
  for (;;) {   // until the place is taken by the holder: a 1 s long poll is refused
    const refused = await probe.getRender(accepted.id, { waitS: 1 }).then(() => null, (e: unknown) => e);
    if (refused instanceof EaselError && refused.status === 503) {
      assert.equal(refused.code, "too_many_waiting");
      assert.equal(refused.param, "wait");
      assert.equal(refused.retryAfter, 1);
      break;
    }
    await new Promise((r) => setTimeout(r, 1500));   // room for the holder's retry
  }
  const retries: RetryInfo[] = [];
  const client = new EaselClient({
    baseUrl: limitedUrl, apiKey: key,
    onRetry: (info) => {
      retries.push(info);
      shots.release("waiters");      // the render finishes, the holder's long poll ends
    },
  });
  const render = await client.getRender(accepted.id, { waitS: 20 });
  assert.equal(render.status, "succeeded");
  assert.ok(retries.length >= 1);
  assert.equal(retries[0]?.status, 503);
  assert.equal(retries[0]?.code, "too_many_waiting");
  assert.equal(retries[0]?.delayMs, 1000);
  assert.equal((await held).status, "succeeded");
});

test("503 scheduler_unavailable is retried for a GET and a keyed POST, never for a POST without a key", {
  skip: skip || !unavailableUrl, timeout: TEST_TIMEOUT_MS,
}, async () => {
  const retries: RetryInfo[] = [];
  const orphan = new EaselClient({ baseUrl: unavailableUrl, apiKey: key, maxRetries: 2, onRetry: retriesInto(retries) });
  const get = await orphan.getRender("rnd_01KNS1WNPW9FCHZSK4XNTHMB0J").then(() => null, (e: unknown) => e);
  assert.ok(get instanceof EaselError);
  assert.equal(get.status, 503);
  assert.equal(get.type, "api_error");
  assert.equal(get.code, "scheduler_unavailable");
  assert.equal(get.retryAfter, 1);
  assert.deepEqual(retries.map((r) => [r.method, r.status, r.code, r.delayMs]),
                   [["GET", 503, "scheduler_unavailable", 1000], ["GET", 503, "scheduler_unavailable", 1000]]);

  retries.length = 0;
  const create = await orphan.createRender(spec(shots.url("/shot.png"), { async: true }), { idempotencyKey: "ts-orphan-1" })
    .then(() => null, (e: unknown) => e);
  assert.ok(create instanceof EaselError && create.code === "scheduler_unavailable");
  assert.equal(retries.length, 2);
  assert.ok(retries.every((r) => r.method === "POST" && r.idempotencyKey === "ts-orphan-1"));

  retries.length = 0;
  const { response } = await orphan.api.POST("/v1/webhooks/test", { body: { url: hooks.url("/hook/orphan") } });
  assert.equal(response.status, 503);
  assert.equal(retries.length, 0, "a POST without an Idempotency-Key is answered, not sent again");
});

test("409 idempotency_key_in_use is retried until the first request's answer replays", { skip, timeout: TEST_TIMEOUT_MS }, async (t) => {
  t.after(() => shots.release("inuse"));
  const body = spec(shots.heldUrl("inuse"));
  const idempotencyKey = "ts-client-in-use-1";
  const first = easel.createRender(body, { idempotencyKey });    // sync: in flight until the render ends
  await shots.requested("inuse");                                 // the render (and the key) is stored
  const retries: RetryInfo[] = [];
  const second = new EaselClient({
    baseUrl: url, apiKey: key,
    onRetry: (info) => {
      retries.push(info);
      shots.release("inuse");
    },
  });
  const replayed = await second.createRender(body, { idempotencyKey });
  const original = await first;
  assert.equal(retries[0]?.status, 409);
  assert.equal(retries[0]?.code, "idempotency_key_in_use");
  assert.equal(retries[0]?.idempotencyKey, idempotencyKey);
  assert.equal(replayed.id, original.id);
  assert.equal(original.status, "succeeded");
});

test("a real delivery verifies with verifyWebhook; a changed byte or another secret does not", { skip: skip || !secret, timeout: TEST_TIMEOUT_MS }, async () => {
  const render = await easel.createRender(spec(shots.url("/shot.png?hook"), { async: true, webhook_url: hooks.url("/hook/ts") }));
  const delivery = await hooks.delivery("/hook/ts");
  const event = verifyWebhook(secret ?? "", delivery.headers, delivery.body);
  assert.equal(event.type, "render.succeeded");
  assert.equal(event.id, render.id);
  assert.equal(event.event_id, delivery.headers["webhook-id"]);
  assert.ok(delivery.headers["x-asa-signature"], "Easel sent X-ASA-Signature");
  const tampered = Buffer.from(delivery.body);
  tampered.writeUInt8(tampered.readUInt8(tampered.length - 2) ^ 1, tampered.length - 2);
  assert.throws(() => verifyWebhook(secret ?? "", delivery.headers, tampered), WebhookVerificationError);
  assert.throws(() => verifyWebhook(`${secret}\n`, delivery.headers, delivery.body), WebhookVerificationError);
  assert.throws(() => verifyWebhook("whsec_" + Buffer.alloc(32, 7).toString("base64"), delivery.headers, delivery.body),
                WebhookVerificationError);
});

test("a capture of an image URL completes and its result downloads as a PNG", {
  skip: skip || (!existsSync("/usr/bin/chromium") ? "no chromium: no renderer takes captures" : false),
  timeout: TEST_TIMEOUT_MS,
}, async () => {
  const accepted = await easel.capture({ url: shots.url("/shot.png?capture"), async: true, device: "iphone" });
  assert.ok("job_id" in accepted);
  const job = await easel.waitForJob(accepted.job_id);
  assert.equal(job.status, "completed", `the capture failed: ${job.error}`);
  assert.ok(job.result?.url);
  const head = pngHeader(await easel.download(job.result.url));
  assert.equal(head.width, job.result.width);
  assert.equal(head.height, job.result.height);
});
