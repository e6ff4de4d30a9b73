// Reads system information: the kernel release, through node:os.
import os from "node:os";
export default { release: os.release() };
