// Fails when src/schema.d.ts is not what `npm run generate` makes from
// docs/openapi.json today: a change of the document must be regenerated.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dir = mkdtempSync(join(tmpdir(), "easel-schema-"));
try {
  const out = join(dir, "schema.d.ts");
  execFileSync(process.execPath,
    [join(root, "node_modules", "openapi-typescript", "bin", "cli.js"),
     join(root, "..", "..", "docs", "openapi.json"), "--output", out],
    { stdio: ["ignore", "ignore", "inherit"] });
  const want = readFileSync(out, "utf8");
  const have = readFileSync(join(root, "src", "schema.d.ts"), "utf8");
  if (want !== have) {
    console.error("src/schema.d.ts is out of date with docs/openapi.json: run `npm run generate` in clients/typescript");
    process.exit(1);
  }
  console.log("src/schema.d.ts matches docs/openapi.json");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
