// Reads an environment variable.
export default { site: Deno.env.get("DXL_SANDBOX_SITE") };
