// Imports an npm package that dxl does not depend on, with a computed dynamic import.
const name = ["npm:", "left-pad@1.3.0"].join("");
export default { padded: (await import(name)).default("x", 3) };
