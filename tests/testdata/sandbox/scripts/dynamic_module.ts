// Imports a TypeScript module outside its folder with a computed dynamic import.
const name = ["..", "outside", "secret_module.ts"].join("/");
const { secret } = await import(new URL(name, import.meta.url).href);
export default { secret };
