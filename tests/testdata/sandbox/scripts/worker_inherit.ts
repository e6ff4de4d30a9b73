// Starts a worker with the script's own permissions ("inherit"); the worker reads a file.
const worker = new Worker(new URL("./worker_reader.ts", import.meta.url), {
  type: "module",
  deno: { permissions: "inherit" },
});
const secret = await new Promise((resolve) => (worker.onmessage = (event) => resolve(event.data)));
worker.terminate();
export default { secret };
