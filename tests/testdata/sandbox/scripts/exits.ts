// Exits before its value could be returned.
Deno.exit(0);
export default { never: "returned" };
