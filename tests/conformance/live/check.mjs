// The GPT-Live conformance check: every client event the openai-live plugin sent during the e2e runs, and every
// server event the fake GPT-Live sent, becomes a typed literal (`const c1: ClientEvent = {...}`) in one TypeScript
// file, and the compiler checks it against the official SDK's types (openai 7.x, resources/live/live.d.ts). An object
// literal with a field the type does not define, a missing required field or a wrong value is a compile error; one
// error fails the test. Only the types are used: nothing of the SDK runs.
//
//   node check.mjs <folder of events-*.json written by tests/e2e/live_rig.hpp>
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const folder = process.argv[2] && resolve(process.argv[2]);
const tsc = join(here, "node_modules", ".bin", "tsc");
if (!existsSync(join(here, "node_modules", "openai", "resources", "live", "live.d.ts")) || !existsSync(tsc)) {
  console.error(`live conformance: the openai and typescript packages are not installed in ${here}; run scripts/setup.sh`);
  process.exit(1);
}
if (!folder || !existsSync(folder)) {
  console.error(`live conformance: no events folder ${folder ?? "(none given)"}: the e2e_live tests write it`);
  process.exit(1);
}

const files = readdirSync(folder).filter((f) => f.startsWith("events-") && f.endsWith(".json")).sort();
const types = join(here, "node_modules", "openai", "resources", "live", "live.js");  // resolves to live.d.ts
const lines = [`import type { ClientEvent, ServerEvent } from ${JSON.stringify(types)};`, ""];
const clientTypes = new Set();
const serverTypes = new Set();
let clients = 0;
let servers = 0;
for (const file of files) {
  const { test, client, server } = JSON.parse(readFileSync(join(folder, file), "utf8"));
  lines.push(`// ${file}: ${test}`);
  for (const event of client) {
    clientTypes.add(event.type);
    lines.push(`export const c${++clients}: ClientEvent = ${JSON.stringify(event)};`);
  }
  for (const event of server) {
    serverTypes.add(event.type);
    lines.push(`export const s${++servers}: ServerEvent = ${JSON.stringify(event)};`);
  }
}
// Nothing to check is a failure, not a pass: the e2e runs must have produced the conversation's events.
const required = ["session.start", "session.input_audio.append", "response.item.create", "response.create", "session.close"];
const missing = required.filter((t) => !clientTypes.has(t));
if (clients === 0 || servers === 0 || missing.length) {
  console.error(`live conformance: ${files.length} files, ${clients} client and ${servers} server events; ` +
                `client event types missing: ${missing.join(", ") || "none"}`);
  process.exit(1);
}
const source = join(folder, "events.ts");
writeFileSync(source, lines.join("\n") + "\n");
try {
  execFileSync(tsc, ["--noEmit", "--strict", "--skipLibCheck", "--module", "nodenext", "--moduleResolution", "nodenext",
                     "--types", "", source], { stdio: "inherit", cwd: here });
} catch {
  console.error(`live conformance: ${source} does not type-check against openai's live.d.ts (errors above)`);
  process.exit(1);
}
console.log(`live conformance: ${clients} client events (${[...clientTypes].sort().join(", ")}) and ${servers} server ` +
            `events (${[...serverTypes].sort().join(", ")}) from ${files.length} e2e runs type-check against openai ` +
            `${JSON.parse(readFileSync(join(here, "node_modules", "openai", "package.json"), "utf8")).version}`);
