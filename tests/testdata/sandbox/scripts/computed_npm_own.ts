// Imports, with computed specifiers, the npm package dxl itself uses (locked and cached).
const found: string[] = [];
for (const name of ["zod@^4.1.12", "/zod@^4.1.12"]) {
  const module = await import(`npm:${name}`);
  found.push(typeof module.z);
}
export default { found };
