// The README's examples, compiled (never run) so that they stay true to the API.
// tsc checks them with every build; clients/typescript/README.md holds the same text.
import { createServer } from "node:http";
import { verifyWebhook, WebhookVerificationError } from "../src/index.js";
import { writeFile } from "node:fs/promises";
import { EaselClient, EaselError } from "../src/index.js";
export async function example1(): Promise<void> {

  const easel = new EaselClient({ baseUrl: "http://127.0.0.1:8080", apiKey: process.env.EASEL_API_KEY });

  const accepted = await easel.createRender({
    async: true,
    canvas: { preset: "appstore.iphone_6_9" },
    slides: [{ headline: { lines: ["Track every habit"] }, screenshot: { url: "https://acme.app/home.png" } }],
  });
  const render = await easel.waitForRender(accepted.id);       // long polls ?wait=30
  for (const image of render.images ?? [])
    await writeFile(`${image.id}.png`, await easel.downloadImage(image));
  await writeFile("fastlane.zip", await easel.downloadArchive(render.id));

  try {
    await easel.cancelRender(render.id);
  } catch (err) {
    if (err instanceof EaselError)                             // 409 render_finished, param "id"
      console.error(err.status, err.code, err.param, err.message, err.requestId);
  }
}
export async function example2(): Promise<void> {

  createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (c) => parts.push(c)).on("end", () => {
      try {
        const event = verifyWebhook(process.env.EASEL_WEBHOOK_SECRET!, req.headers, Buffer.concat(parts));
        console.log(event.type, event.id, event.event_id);      // drop duplicates by event_id
        res.writeHead(200).end("ok");
      } catch (err) {
        res.writeHead(err instanceof WebhookVerificationError ? 400 : 500).end();
      }
    });
  }).listen(8000);
}

// README.md, section "TypeScript client"
export async function exampleTopLevel(): Promise<void> {
  const easel = new EaselClient({ baseUrl: "http://127.0.0.1:8080", apiKey: process.env.EASEL_API_KEY });
  const { id } = await easel.createRender({
    async: true, canvas: { preset: "appstore.iphone_6_9" },
    slides: [{ headline: { lines: ["Track every habit"] }, screenshot: { url: "https://acme.app/home.png" } }],
  });
  const render = await easel.waitForRender(id);               // long polls ?wait=30
  const png = await easel.downloadImage(render.images![0]!);  // Uint8Array
  return void png;
}
