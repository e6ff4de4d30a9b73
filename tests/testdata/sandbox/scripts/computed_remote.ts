// Imports a remote module with a computed dynamic import.
const url = ["https://deno.land", "std@0.224.0", "version.ts"].join("/");
export default { version: (await import(url)).VERSION };
