// Allocates ArrayBuffers (outside the V8 heap) until something stops it.
const hoard: Uint8Array[] = [];
while (true) {
  hoard.push(new Uint8Array(16 * 1024 * 1024).fill(1));
  await new Promise((resolve) => setTimeout(resolve, 0));
}
