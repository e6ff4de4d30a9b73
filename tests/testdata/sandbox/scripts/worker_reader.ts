// A worker that reads a file outside the scripts' folder and posts it back.
const path = new URL("../outside/secret.txt", import.meta.url).pathname;
(self as unknown as Worker).postMessage((await Deno.readTextFile(path)).trim());
