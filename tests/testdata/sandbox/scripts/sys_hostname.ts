// Reads system information: the host name.
export default { host: Deno.hostname() };
