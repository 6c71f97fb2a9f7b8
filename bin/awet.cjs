#!/usr/bin/env node
// `npx awet <command>`: runs src/main.ts with the Bun binary installed by npm (the `bun` package),
// so only Node is needed on the machine. Signals are forwarded so Ctrl-C stops the daemon cleanly.
"use strict";
const { spawn } = require("node:child_process");
const path = require("node:path");
const fs = require("node:fs");

const root = path.resolve(__dirname, "..");
function findBun() {
  const candidates = [];
  try {
    candidates.push(path.join(path.dirname(require.resolve("bun/package.json", { paths: [root] })), "bin", "bun.exe"));
  } catch (_) {}
  candidates.push(path.join(root, "node_modules", "bun", "bin", "bun.exe"));
  for (const c of candidates) if (fs.existsSync(c)) return c;
  return null;
}
const bun = findBun();
if (!bun) {
  process.stderr.write("awet: the Bun runtime is not installed here; run `npm install` in " + root + "\n");
  process.exit(127);
}
const child = spawn(bun, [path.join(root, "src", "main.ts"), ...process.argv.slice(2)], { stdio: "inherit" });
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code, signal) => process.exit(code === null ? (signal === "SIGINT" ? 130 : 1) : code));
