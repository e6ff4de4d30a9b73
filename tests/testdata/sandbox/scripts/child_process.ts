// Runs a subprocess with node:child_process (its "error" event is left unhandled).
import { spawn } from "node:child_process";
spawn("true");
await new Promise((resolve) => setTimeout(resolve, 5000));
export default { ran: true };
