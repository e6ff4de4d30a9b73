// Evaluates a script, to be SIGKILLed by a test while it runs: args are the script's path
// and the time limit in milliseconds.
import { evaluateScript } from "../../../lib/config/evaluate.ts";

await evaluateScript(Deno.args[0] ?? "", { timeoutMs: Number(Deno.args[1]) });
