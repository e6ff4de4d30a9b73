// Loads a shared library with Deno.dlopen.
const lib = Deno.dlopen("libc.so.6", { getpid: { parameters: [], result: "i32" } });
export default { pid: lib.symbols.getpid() };
