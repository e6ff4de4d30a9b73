// Reads a file outside its folder through node:fs.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
const path = fileURLToPath(new URL("../outside/secret.txt", import.meta.url));
export default { secret: readFileSync(path, "utf8").trim() };
