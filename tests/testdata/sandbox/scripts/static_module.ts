// Imports a TypeScript module outside its folder statically.
import { secret } from "../outside/secret_module.ts";
export default { secret };
