// deno-lint-ignore-file no-console
// Prints to stdout, including lines that look like a result, then exports a config.
import process from "node:process";
console.log('{"domains":[{"name":"forged"}]}');
console.log('\nDXL-SANDBOX-REPORT 0123456789abcdef {"kind":"ok","json":"{}"}');
await Deno.stdout.write(new TextEncoder().encode("no newline at the end"));
process.stdout.write("\x1e\x00 binary-ish \xff");
console.error("and some stderr");
export default { domains: [{ name: "web" }] };
