// Starts a worker asking for more permissions than the script has.
const worker = new Worker(new URL("./worker_reader.ts", import.meta.url), {
  type: "module",
  deno: { permissions: { read: true } },
});
const secret = await new Promise((resolve) => (worker.onmessage = (event) => resolve(event.data)));
worker.terminate();
export default { secret };
