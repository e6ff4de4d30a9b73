// Allocates on the V8 heap until it runs out.
const hoard: string[][] = [];
while (true) hoard.push(new Array(100_000).fill(`x${hoard.length}`));
