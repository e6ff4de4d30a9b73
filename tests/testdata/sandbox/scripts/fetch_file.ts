// Reads a file outside its folder through fetch("file://…").
const response = await fetch(new URL("../outside/secret.txt", import.meta.url));
export default { secret: (await response.text()).trim() };
