import { createHash } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import css from "../dashboard/style.css" with { type: "text" };

/**
 * The dashboard's browser code: TypeScript under src/dashboard/, bundled by Bun (lightweight-charts
 * included, nothing from a CDN). From a checkout it is bundled on first request; `npm run build`
 * bundles it once into dist/ and embeds that file in the single binary (Bun.embeddedFiles), which
 * has no sources to bundle from.
 */
export const CLIENT_ENTRY = join(import.meta.dir, "..", "dashboard", "main.ts");
export const EMBEDDED_BUNDLE = "awet-dashboard.jsbundle";
export const DASHBOARD_CSS = css;

export interface Asset {
  body: string;
  etag: string;
}

const etagOf = (s: string) => `"${createHash("sha1").update(s).digest("hex").slice(0, 16)}"`;

/** Bundle the client now (minified ESM for the browser). Throws with Bun's messages on failure. */
export async function bundleClient(entry = CLIENT_ENTRY): Promise<string> {
  // the "production" export condition picks lightweight-charts' production build (about half the size)
  const r = await Bun.build({ entrypoints: [entry], target: "browser", format: "esm", minify: true, sourcemap: "none", conditions: ["production"], define: { "process.env.NODE_ENV": "\"production\"" } });
  if (!r.success || r.outputs.length !== 1) throw new Error(`dashboard bundle failed: ${r.logs.map((l) => String(l)).join("; ") || `${r.outputs.length} outputs`}`);
  return r.outputs[0]!.text();
}

let script: Promise<Asset> | null = null;

/** The client script: the embedded bundle in the single binary, else bundled once per process. */
export function clientScript(): Promise<Asset> {
  if (!script) {
    script = (async () => {
      const emb = Bun.embeddedFiles.find((f) => (f as Blob & { name?: string }).name === EMBEDDED_BUNDLE);
      if (emb) return asset(await emb.text());
      if (!existsSync(CLIENT_ENTRY)) throw new Error(`the dashboard bundle is not embedded and ${CLIENT_ENTRY} is absent: build the binary with npm run build`);
      return asset(await bundleClient());
    })();
    script.catch(() => (script = null)); // a failed bundle is retried on the next request
  }
  return script;
}

export const asset = (body: string): Asset => ({ body, etag: etagOf(body) });
export const styleAsset = asset(DASHBOARD_CSS);

// `bun src/server/dashboard-assets.ts OUT`: write the bundle for `npm run build` to embed.
if (import.meta.main) {
  const out = process.argv[2] ?? join("dist", EMBEDDED_BUNDLE);
  mkdirSync(dirname(out), { recursive: true });
  const js = await bundleClient();
  writeFileSync(out, js);
  console.log(`dashboard bundle: ${out} (${Buffer.byteLength(js).toLocaleString("en-US")} bytes)`);
}
