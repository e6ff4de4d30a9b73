// Reads a file outside its folder by absolute path.
const path = new URL("../outside/secret.txt", import.meta.url).pathname;
export default { secret: (await Deno.readTextFile(path)).trim() };
