// Reads an environment variable through node:process.
import process from "node:process";
export default { site: process.env.DXL_SANDBOX_SITE };
