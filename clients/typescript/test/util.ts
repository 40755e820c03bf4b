// Loopback servers for the client's tests: screenshots (one route held until
// released, to keep a render processing) and a webhook receiver.
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { deflateSync } from "node:zlib";
import type { AddressInfo } from "node:net";

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++)
    c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(data: Buffer): number {
  let c = 0xffffffff;
  for (const b of data)
    c = (CRC_TABLE[(c ^ b) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** An RGB PNG made here, not by Easel: a flat colour with stripes. */
export function makePng(width: number, height: number): Buffer {
  const rows: Buffer[] = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    const rgb = Math.floor(y / 16) % 2 === 0 ? [40, 120, 200] : [250, 250, 250];
    for (let x = 0; x < width; x++)
      row.set(rgb, 1 + x * 3);
    rows.push(row);
  }
  const chunk = (kind: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(kind, "ascii"), data]);
    const len = Buffer.alloc(4), crc = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", ihdr),
                        chunk("IDAT", deflateSync(Buffer.concat(rows))), chunk("IEND", Buffer.alloc(0))]);
}

/** width, height, bit depth and colour type from a PNG's IHDR; throws when it is not a PNG. */
export function pngHeader(data: Uint8Array): { width: number; height: number; depth: number; colorType: number } {
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (!b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])))
    throw new Error("not a PNG signature");
  if (b.subarray(12, 16).toString("ascii") !== "IHDR")
    throw new Error("first chunk is not IHDR");
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20), depth: b[24] ?? -1, colorType: b[25] ?? -1 };
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

/** /shot.png answers at once; /held/<name>.png answers once release(name) is called. */
export class ShotServer {
  readonly png = makePng(393, 852);
  private server: Server;
  private port = 0;
  private held = new Map<string, { released: boolean; waiting: (() => void)[]; requested: (() => void)[]; hits: number }>();

  constructor() {
    this.server = createServer((req, res) => {
      const answer = () => {
        res.writeHead(200, { "Content-Type": "image/png", "Content-Length": this.png.length });
        res.end(this.png);
      };
      const m = /^\/held\/([a-z0-9_-]+)\.png/.exec(req.url ?? "");
      if (m?.[1]) {
        const h = this.slot(m[1]);
        h.hits++;
        h.requested.splice(0).forEach((f) => f());
        if (h.released)
          answer();
        else
          h.waiting.push(answer);
        return;
      }
      if ((req.url ?? "").startsWith("/shot"))
        return answer();
      res.writeHead(404, { "Content-Type": "text/plain" });
      res.end("not found");
    });
  }

  private slot(name: string) {
    let h = this.held.get(name);
    if (!h) {
      h = { released: false, waiting: [], requested: [], hits: 0 };
      this.held.set(name, h);
    }
    return h;
  }

  async start(): Promise<this> {
    this.port = await listen(this.server);
    return this;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  heldUrl(name: string): string {
    return this.url(`/held/${name}.png`);
  }

  /** resolves once the renderer has asked for /held/<name>.png */
  requested(name: string): Promise<void> {
    const h = this.slot(name);
    return h.hits > 0 ? Promise.resolve() : new Promise((resolve) => h.requested.push(resolve));
  }

  release(name: string): void {
    const h = this.slot(name);
    h.released = true;
    h.waiting.splice(0).forEach((f) => f());
  }

  close(): void {
    for (const name of this.held.keys())
      this.release(name);
    this.server.closeAllConnections();
    this.server.close();
  }
}

export interface Delivery {
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Records every POST (headers and raw body) and answers 200. */
export class HookReceiver {
  readonly calls: Delivery[] = [];
  private server: Server;
  private port = 0;
  private waiters: (() => void)[] = [];

  constructor() {
    this.server = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on("data", (c: Buffer) => parts.push(c));
      req.on("end", () => {
        this.calls.push({ path: req.url ?? "", headers: req.headers, body: Buffer.concat(parts) });
        res.writeHead(200, { "Content-Type": "text/plain", "Content-Length": 2 });
        res.end("ok");
        this.waiters.splice(0).forEach((f) => f());
      });
    });
  }

  async start(): Promise<this> {
    this.port = await listen(this.server);
    return this;
  }

  url(path = "/hook"): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** the first delivery whose path is `path` (waits for it) */
  async delivery(path: string): Promise<Delivery> {
    for (;;) {
      const found = this.calls.find((c) => c.path === path);
      if (found)
        return found;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  close(): void {
    this.server.closeAllConnections();
    this.server.close();
  }
}
