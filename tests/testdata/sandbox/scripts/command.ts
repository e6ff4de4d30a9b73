// Runs a subprocess with Deno.Command.
const { success } = await new Deno.Command("true").output();
export default { success };
