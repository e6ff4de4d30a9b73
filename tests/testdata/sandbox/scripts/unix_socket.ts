// Connects to a Unix socket (xenstored's, say) next to it.
const path = new URL("./no_such.sock", import.meta.url).pathname;
const connection = await Deno.connect({ transport: "unix", path });
connection.close();
export default { connected: true };
