import { initWasm, Resvg } from "@resvg/resvg-wasm";
import wasmPath from "@resvg/resvg-wasm/index_bg.wasm" with { type: "file" };
import sansPath from "dejavu-fonts-ttf/ttf/DejaVuSans.ttf" with { type: "file" };
import sansBoldPath from "dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf" with { type: "file" };

let ready: Promise<void> | null = null;

/**
 * Render an SVG to PNG with resvg (WebAssembly, from npm; no browser, no system library). The
 * fonts come from the dejavu-fonts-ttf package, so text looks the same on every machine; both
 * files are embedded into the single binary.
 */
export async function svgToPng(svg: string, scale = 2): Promise<Uint8Array> {
  ready ??= (async () => initWasm(await Bun.file(wasmPath).arrayBuffer()))();
  await ready;
  const fonts = await Promise.all([sansPath, sansBoldPath].map(async (p) => new Uint8Array(await Bun.file(p).arrayBuffer())));
  const r = new Resvg(svg, { fitTo: { mode: "zoom", value: scale }, font: { fontBuffers: fonts, defaultFontFamily: "DejaVu Sans", sansSerifFamily: "DejaVu Sans" } });
  try {
    return r.render().asPng();
  } finally {
    r.free();
  }
}
