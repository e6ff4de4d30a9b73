// Imports a JSON file outside its folder statically (module loading, not a read, in Deno).
import data from "../outside/secret.json" with { type: "json" };
export default data;
