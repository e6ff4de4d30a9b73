// Waits (idle) for a very long time.
await new Promise((resolve) => setTimeout(resolve, 3_600_000));
export default {};
