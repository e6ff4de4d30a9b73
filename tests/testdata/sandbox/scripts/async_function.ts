// Default-exports an async function that returns the config.
export default async (): Promise<{ domains: object[] }> => {
  await new Promise((resolve) => setTimeout(resolve, 10));
  return { domains: [{ name: "web", memory: "512M" }, { name: "db", vcpus: 2 }] };
};
