// Writes docs/config-reference.md from the schema.
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { configReference } from "../components/config/reference";

const path = resolve(__dirname, "../docs/config-reference.md");
writeFileSync(path, `# Config reference\n\n${configReference()}`);
console.log(`wrote ${path}`);
