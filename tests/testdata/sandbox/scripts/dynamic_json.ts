// Imports a JSON file outside its folder with a literal dynamic import.
const data = await import("../outside/secret.json", { with: { type: "json" } });
export default data.default;
