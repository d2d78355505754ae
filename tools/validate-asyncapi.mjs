// Validate an AsyncAPI document with the official parser (@asyncapi/parser, pinned in package.json).
// Usage: node tools/validate-asyncapi.mjs FILE
// Prints each diagnostic as "severity code path: message" and exits 1 if any is an error, 2 on bad usage.
import { readFile } from "node:fs/promises";
import { Parser, DiagnosticSeverity } from "@asyncapi/parser";

const file = process.argv[2];
if (!file) {
  console.error("usage: node tools/validate-asyncapi.mjs FILE");
  process.exit(2);
}
const parser = new Parser();
const { document, diagnostics } = await parser.parse(await readFile(file, "utf8"), { source: file });
const names = { 0: "error", 1: "warning", 2: "information", 3: "hint" };
let errors = 0;
for (const d of diagnostics) {
  if (d.severity === DiagnosticSeverity.Error) errors += 1;
  console.log(`${names[d.severity] ?? d.severity} ${d.code} ${d.path.join(".")}: ${d.message}`);
}
if (errors || !document) {
  console.log(`invalid: ${errors} error(s)`);
  process.exit(1);
}
console.log(
  `valid: AsyncAPI ${document.version()}, ${document.operations().length} operations, ` +
    `${document.messages().length} messages`,
);
