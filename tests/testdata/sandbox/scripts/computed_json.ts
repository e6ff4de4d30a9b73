// Imports a JSON file outside its folder with a computed dynamic import.
const url = new URL(["..", "outside", "secret.json"].join("/"), import.meta.url);
const data = await import(url.href, { with: { type: "json" } });
export default data.default;
