// Looks for origin storage, which would outlive the run.
const g = globalThis as Record<string, unknown>;
export default { localStorage: typeof g.localStorage, caches: typeof g.caches };
