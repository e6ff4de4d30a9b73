// Writes a file into its own folder (readable, but never writable).
await Deno.writeTextFile(new URL("./written.txt", import.meta.url), "written by a script");
export default { wrote: true };
