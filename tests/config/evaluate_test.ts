/**
 * evaluateScript(): one test per escape route out of the sandbox (each refused with the
 * permission named, and the same script succeeding once granted where granting makes
 * sense), the limits, and how the value comes back.
 */

import assert from "node:assert/strict";
import { type EvaluateOptions, evaluateScript } from "../../lib/config/evaluate.ts";
import {
  ScriptError,
  ScriptFailedError,
  ScriptMemoryError,
  ScriptOutputError,
  ScriptPermissionError,
  ScriptTimeoutError,
} from "../../lib/config/errors.ts";
import { serialize } from "../../lib/config/_sandbox_json.ts";
import { planReads } from "../../lib/config/_sandbox_grants.ts";

const SCRIPTS = new URL("../testdata/sandbox/scripts/", import.meta.url).pathname.slice(0, -1);
const OUTSIDE = new URL("../testdata/sandbox/outside/", import.meta.url).pathname.slice(0, -1);

/**
 * evaluateScript with a time limit generous enough for a loaded CI machine (the limit
 * itself is tested on its own).
 */
function evaluate(script: string, options: EvaluateOptions = {}): Promise<unknown> {
  return evaluateScript(script, { timeoutMs: 60_000, ...options });
}

function fixture(name: string): string {
  return `${SCRIPTS}/${name}`;
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    const value = await promise;
    assert.fail(`expected a rejection, got ${JSON.stringify(value)}`);
  } catch (error) {
    if (error instanceof assert.AssertionError) throw error;
    return error as Error;
  }
}

/** Asserts `script` is refused `permission` (to `target`), and returns the error. */
async function refused(
  script: string,
  permission: string,
  target: string | undefined,
  options: EvaluateOptions = {},
): Promise<ScriptPermissionError> {
  const error = await rejection(evaluate(script, options));
  assert.ok(
    error instanceof ScriptPermissionError,
    `${script}: got ${error.name}: ${error.message}`,
  );
  assert.equal(error.permission, permission, error.message);
  assert.equal(error.target, target, error.message);
  assert.equal(error.script, script);
  assert.ok(error.message.startsWith(`${script}: needs ${permission} access`), error.message);
  return error;
}

/** Runs `script` refused, and granted `grant` (expecting `value`), at the same time. */
async function refusedThenGranted(
  script: string,
  refusal: [permission: string, target: string | undefined, options?: EvaluateOptions],
  grant: EvaluateOptions,
  value: unknown,
): Promise<ScriptPermissionError> {
  const [error, granted] = await Promise.all([
    refused(script, ...refusal),
    evaluate(script, grant),
  ]);
  assert.deepEqual(granted, value, `${script} with ${JSON.stringify(grant)}`);
  return error;
}

/** A temp dir, removed when disposed. */
async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.realPath(await Deno.makeTempDir({ prefix: "dxl-sandbox-" }));
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }),
  };
}

Deno.test('evaluateScript() loads "dxl" with no permission and returns the default export as data', async () => {
  await using dir = await tempDir();
  const script = `${dir.path}/web.ts`;
  await Deno.writeTextFile(
    script,
    `import { joinPath } from "dxl";\nexport default { domains: [{ name: "web", home: joinPath("/local/domain", 7) }] };\n`,
  );
  assert.deepEqual(await evaluate(script), {
    domains: [{ name: "web", home: "/local/domain/7" }],
  });
});

Deno.test("evaluateScript() refuses a file read by absolute path, and allows it when granted", async () => {
  const script = fixture("read_file.ts");
  const error = await refusedThenGranted(script, ["read", `${OUTSIDE}/secret.txt`], {
    allowRead: [OUTSIDE],
  }, { secret: "top secret" });
  assert.equal(
    error.message,
    `${script}: needs read access to "${OUTSIDE}/secret.txt"; grant it with --allow-read=${OUTSIDE}/secret.txt`,
  );
});

Deno.test('evaluateScript() refuses fetch("file://…") outside the grants', async () => {
  await refusedThenGranted(fixture("fetch_file.ts"), ["read", `${OUTSIDE}/secret.txt`], {
    allowRead: [`${OUTSIDE}/secret.txt`],
  }, { secret: "top secret" });
});

Deno.test("evaluateScript() refuses a path through a symlink in a granted folder that leads out of it", async () => {
  await using dir = await tempDir();
  const granted = `${dir.path}/granted`;
  const outside = `${dir.path}/outside`;
  const site = `${dir.path}/site`;
  for (const d of [granted, `${granted}/sub`, outside, site]) await Deno.mkdir(d);
  await Deno.writeTextFile(`${outside}/secret.txt`, "linked secret");
  await Deno.writeTextFile(`${outside}/secret.json`, `{"secret":"linked json"}`);
  await Deno.writeTextFile(`${granted}/sub/own.txt`, "own file");
  await Deno.symlink(outside, `${granted}/link`); // leads out
  await Deno.symlink(granted, `${granted}/alias`); // leads in, to a folder holding "link"
  await Deno.symlink(`${granted}/sub`, `${granted}/inner`); // leads in, harmless
  await Deno.symlink(`${outside}/secret.txt`, `${granted}/file_link.txt`); // a file link out
  await Deno.symlink(outside, `${site}/data`); // in the script's own folder
  const reader = async (name: string, path: string) => {
    const script = `${site}/${name}.ts`;
    await Deno.writeTextFile(
      script,
      `export default { text: await Deno.readTextFile(${JSON.stringify(path)}) };\n`,
    );
    return script;
  };
  const importer = `${site}/import_link.ts`;
  await Deno.writeTextFile(
    importer,
    `import data from "./data/secret.json" with { type: "json" };\nexport default data;\n`,
  );
  await Deno.symlink(outside, `${dir.path}/grant_link`);
  const folderLink = await reader("folder_link", `${granted}/link/secret.txt`);

  // Independent runs, started together.
  await Promise.all([
    (async () => {
      const error = await refused(folderLink, "read", `${granted}/link/secret.txt`, {
        allowRead: [granted],
      });
      assert.equal(
        error.message,
        `${folderLink}: needs read access to "${granted}/link/secret.txt"; "${granted}/link" is a symlink that leads out of the granted paths, to "${outside}"; grant that with --allow-read=${outside}`,
      );
    })(),
    // once its target is granted too, the link leads nowhere new
    evaluate(folderLink, { allowRead: [granted, outside] }).then((value) =>
      assert.deepEqual(value, { text: "linked secret" })
    ),
    // a link to a file
    reader("file_link", `${granted}/file_link.txt`).then((script) =>
      refused(script, "read", `${granted}/file_link.txt`, { allowRead: [granted] })
    ),
    // a link back into the folder, then out: every name of the outward link is denied
    reader("alias", `${granted}/alias/alias/link/secret.txt`).then((script) =>
      refused(script, "read", `${granted}/alias/alias/link/secret.txt`, { allowRead: [granted] })
    ),
    // ".." after a link: Deno normalizes the path before it checks and opens it
    reader("dotdot", `${granted}/link/../link/secret.txt`).then((script) =>
      refused(script, "read", `${granted}/link/secret.txt`, { allowRead: [granted] })
    ),
    // a link that stays inside still works
    reader("inner", `${granted}/inner/own.txt`).then(async (script) =>
      assert.deepEqual(await evaluate(script, { allowRead: [granted] }), { text: "own file" })
    ),
    // a link in the script's own folder: read, and imported
    reader("own_folder", `${site}/data/secret.txt`).then((script) =>
      refused(script, "read", `${site}/data/secret.txt`)
    ),
    refused(importer, "read", `${site}/data/secret.json`),
    evaluate(importer, { allowRead: [outside] }).then((value) =>
      assert.deepEqual(value, { secret: "linked json" })
    ),
    // a grant that is itself a symlink covers its target
    reader("grant_link", `${dir.path}/grant_link/secret.txt`).then(async (script) =>
      assert.deepEqual(
        await evaluate(script, { allowRead: [`${dir.path}/grant_link`] }),
        { text: "linked secret" },
      )
    ),
  ]);
});

Deno.test("planReads() denies every name of a link that leads out, and only those (in process)", async () => {
  await using dir = await tempDir();
  const g = `${dir.path}/g`;
  const out = `${dir.path}/out`;
  for (const d of [g, `${g}/a`, `${g}/a/b`, `${g}/c`, out]) await Deno.mkdir(d);
  await Deno.symlink(out, `${g}/a/b/up`); // leads out
  await Deno.symlink(`${g}/a`, `${g}/c/to_a`); // into a folder holding "up": denied too
  await Deno.symlink(`${g}/c`, `${g}/to_c`); // into a folder holding "to_a": denied too
  await Deno.symlink(`${g}/a/b/up`, `${g}/via_up`); // to a link that leads out
  await Deno.symlink(`${dir.path}/missing`, `${g}/dangling`);
  await Deno.symlink(`${g}/c`, `${dir.path}/g_alias`); // the grant's other name
  await Deno.writeTextFile(`${g}/file.txt`, "x");
  await Deno.symlink(`${g}/file.txt`, `${g}/c/file_link`); // stays in: allowed

  const plan = await planReads("web.ts", [], [g, `${dir.path}/g_alias`], "/");
  assert.deepEqual(plan.allow, [g, `${dir.path}/g_alias`, `${g}/c`]);
  assert.deepEqual(
    plan.deny.map((d) => [d.name, d.target]).sort(),
    [
      [`${dir.path}/g_alias/to_a`, `${g}/a`],
      [`${g}/a/b/up`, out],
      [`${g}/c/to_a`, `${g}/a`],
      [`${g}/dangling`, undefined],
      [`${g}/to_c`, `${g}/c`],
      [`${g}/via_up`, out],
    ].sort(),
  );
  // once "out" is granted too, nothing leads out but the dangling link
  const wider = await planReads("web.ts", [], [g, out], "/");
  assert.deepEqual(wider.deny.map((d) => d.name), [`${g}/dangling`]);
  // everything granted: no walk, no denial
  assert.deepEqual(await planReads("web.ts", [], true, "/"), {
    allow: true,
    deny: [],
    realRoots: ["/"],
  });
});

Deno.test("evaluateScript() refuses a static JSON import from outside", async () => {
  await refusedThenGranted(fixture("static_json.ts"), ["read", `${OUTSIDE}/secret.json`], {
    allowRead: [OUTSIDE],
  }, { secret: "top secret json" });
});

Deno.test("evaluateScript() refuses a dynamic JSON import from outside (literal and computed)", async () => {
  await Promise.all(
    ["dynamic_json.ts", "computed_json.ts"].map((name) =>
      refusedThenGranted(fixture(name), ["read", `${OUTSIDE}/secret.json`], {
        allowRead: [OUTSIDE],
      }, { secret: "top secret json" })
    ),
  );
});

Deno.test("evaluateScript() refuses a JSON import of an absolute path from a data: module", async () => {
  await using dir = await tempDir();
  const script = `${dir.path}/data_url.ts`;
  const inner = `import x from ${
    JSON.stringify(`file://${OUTSIDE}/secret.json`)
  } with { type: "json" }; export default x;`;
  await Deno.writeTextFile(
    script,
    `import x from ${
      JSON.stringify(`data:application/javascript,${encodeURIComponent(inner)}`)
    };\nexport default x;\n`,
  );
  await refused(script, "read", `${OUTSIDE}/secret.json`);
});

Deno.test("evaluateScript() refuses static and dynamic imports of a module from outside", async () => {
  await Promise.all(
    ["static_module.ts", "dynamic_module.ts"].map((name) =>
      refusedThenGranted(fixture(name), ["read", `${OUTSIDE}/secret_module.ts`], {
        allowRead: [OUTSIDE],
      }, { secret: "top secret module" })
    ),
  );
});

Deno.test("evaluateScript() refuses node:fs reads outside the grants", async () => {
  await refusedThenGranted(fixture("node_fs.ts"), ["read", `${OUTSIDE}/secret.txt`], {
    allowRead: [OUTSIDE],
  }, { secret: "top secret" });
});

Deno.test("evaluateScript() refuses environment variables (Deno.env, node:process) unless granted", async () => {
  Deno.env.set("DXL_SANDBOX_SITE", "fra1");
  await Promise.all(["env.ts", "node_env.ts"].map(async (name) => {
    const script = fixture(name);
    const [error] = await Promise.all([
      refusedThenGranted(script, ["env", "DXL_SANDBOX_SITE"], {
        allowEnv: ["DXL_SANDBOX_SITE"],
      }, { site: "fra1" }),
      refused(script, "env", "DXL_SANDBOX_SITE", { allowEnv: ["OTHER"] }),
    ]);
    assert.ok(error.message.endsWith("grant it with --allow-env=DXL_SANDBOX_SITE"), error.message);
  }));
});

Deno.test("evaluateScript() refuses the network unless granted, and nothing reaches the server", async () => {
  let requests = 0;
  await using server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    requests++;
    return new Response("hello from the server");
  });
  const host = `127.0.0.1:${server.addr.port}`;
  await using dir = await tempDir();
  const script = `${dir.path}/net.ts`;
  await Deno.writeTextFile(
    script,
    `export default { body: await (await fetch("http://${host}/")).text() };\n`,
  );
  const [error] = await Promise.all([
    refused(script, "net", host),
    refused(script, "net", host, { allowNet: ["127.0.0.1:1"] }),
  ]);
  assert.ok(error.message.endsWith(`grant it with --allow-net=${host}`), error.message);
  assert.equal(requests, 0);
  assert.deepEqual(await evaluate(script, { allowNet: [host] }), {
    body: "hello from the server",
  });
  assert.equal(requests, 1);
});

Deno.test("evaluateScript() refuses a subprocess by Deno.Command (run is never granted)", async () => {
  const script = fixture("command.ts");
  const error = await refused(script, "run", "true", {
    allowRead: true,
    allowEnv: true,
    allowNet: true,
  });
  assert.ok(error.message.endsWith("dxl never grants run access to a script"), error.message);
});

Deno.test("evaluateScript() refuses a subprocess by node:child_process", async () => {
  const script = fixture("child_process.ts");
  // node:child_process reads the environment before it runs anything
  await Promise.all([
    refused(script, "env", undefined),
    refused(script, "run", "true", { allowEnv: true }),
  ]);
});

Deno.test("evaluateScript() refuses FFI (Deno.dlopen)", async () => {
  const error = await refused(fixture("ffi.ts"), "ffi", "libc.so.6", { allowRead: true });
  assert.ok(error.message.endsWith("dxl never grants ffi access to a script"), error.message);
});

Deno.test("evaluateScript() refuses system information (Deno.hostname, node:os release)", async () => {
  await Promise.all([
    refused(fixture("sys_hostname.ts"), "sys", "hostname"),
    refused(fixture("sys_os_release.ts"), "sys", "osRelease"),
  ]);
});

Deno.test("evaluateScript() refuses writing, even into the script's own folder", async () => {
  const script = fixture("write.ts");
  await refused(script, "write", `${SCRIPTS}/written.txt`, { allowRead: true });
  await assert.rejects(Deno.stat(`${SCRIPTS}/written.txt`), Deno.errors.NotFound);
});

Deno.test("evaluateScript() refuses a Unix socket, even with read and net granted", async () => {
  await refused(fixture("unix_socket.ts"), "write", `${SCRIPTS}/no_such.sock`, {
    allowRead: true,
    allowNet: true,
  });
});

Deno.test("evaluateScript() gives a worker no more than the script: inherited permissions", async () => {
  await refusedThenGranted(fixture("worker_inherit.ts"), ["read", `${OUTSIDE}/secret.txt`], {
    allowRead: [OUTSIDE],
  }, { secret: "top secret" });
});

Deno.test("evaluateScript() refuses a worker that asks for more permissions", async () => {
  const error = await refused(fixture("worker_escalate.ts"), "read", undefined, {
    allowRead: [OUTSIDE],
  });
  assert.ok(error.message.endsWith("grant it with --allow-read"), error.message);
});

Deno.test("evaluateScript() refuses remote imports (static, literal dynamic and computed)", async () => {
  await using dir = await tempDir();
  const url = "https://deno.land/std@0.224.0/version.ts";
  const staticScript = `${dir.path}/static_remote.ts`;
  await Deno.writeTextFile(
    staticScript,
    `import { VERSION } from "${url}";\nexport default { VERSION };\n`,
  );
  const dynamicScript = `${dir.path}/dynamic_remote.ts`;
  await Deno.writeTextFile(
    dynamicScript,
    `export default { v: (await import("${url}")).VERSION };\n`,
  );
  await Promise.all(
    [staticScript, dynamicScript, fixture("computed_remote.ts")].map(async (script) => {
      const error = await refused(script, "import", url, { allowNet: true, allowRead: true });
      assert.match(error.message, /remote, npm and jsr modules cannot be granted/);
    }),
  );
});

Deno.test("evaluateScript() refuses npm and jsr imports, even of a package dxl itself uses", async () => {
  await using dir = await tempDir();
  const cases: [string, string][] = [
    [`import { z } from "npm:zod@^4.1.12";\nexport default { z: typeof z };\n`, "npm:zod@^4.1.12"],
    [`export default { x: (await import("npm:left-pad@1.3.0")).default };\n`, "npm:left-pad@1.3.0"],
    [
      `import { assert } from "jsr:@std/assert";\nexport default { a: typeof assert };\n`,
      "jsr:@std/assert",
    ],
  ];
  const all = { allowRead: true, allowNet: true, allowEnv: true };
  await Promise.all([
    ...cases.map(async ([source, specifier], i) => {
      const script = `${dir.path}/npm_${i}.ts`;
      await Deno.writeTextFile(script, source);
      await refused(script, "import", specifier, all);
    }),
    // computed at run time, so only the run can see it: no npm: specifier resolves there
    refused(fixture("computed_npm.ts"), "import", undefined, all),
    refused(fixture("computed_npm_own.ts"), "import", undefined, all),
  ]);
});

Deno.test("evaluateScript() stops an endless loop at the time limit", async () => {
  const started = performance.now();
  const error = await rejection(evaluateScript(fixture("loop.ts"), { timeoutMs: 1500 }));
  assert.ok(error instanceof ScriptTimeoutError, `${error.name}: ${error.message}`);
  assert.equal(
    error.message,
    `${fixture("loop.ts")}: did not finish within 1500 ms and was stopped`,
  );
  assert.ok(performance.now() - started < 1500 + 3000);
});

Deno.test("evaluateScript() stops a memory bomb: on the V8 heap, and in ArrayBuffers", async () => {
  await Promise.all(["heap_bomb.ts", "buffer_bomb.ts"].map(async (name) => {
    const error = await rejection(
      evaluate(fixture(name), { memoryMb: 64, timeoutMs: 30_000 }),
    );
    assert.ok(error instanceof ScriptMemoryError, `${name}: ${error.name}: ${error.message}`);
    assert.equal(
      error.message,
      `${fixture(name)}: ran out of memory (limit 64 MB) and was stopped`,
    );
  }));
});

Deno.test("evaluateScript() names the field whose getter throws", async () => {
  const error = await rejection(evaluate(fixture("getter_throws.ts")));
  assert.ok(error instanceof ScriptOutputError, `${error.name}: ${error.message}`);
  assert.equal(error.path, "domains[0].memory");
  assert.equal(
    error.message,
    `${
      fixture("getter_throws.ts")
    }: the exported value at domains[0].memory could not be read: Error: memory is not known yet; a config must be JSON data`,
  );
});

Deno.test("evaluateScript() names where a script's value is not JSON data", async () => {
  await using dir = await tempDir();
  const cases: [string, string, string][] = [
    [
      `const a: Record<string, unknown> = { name: "web" };\na.self = { back: a };\nexport default { domains: [a] };`,
      "domains[0].self.back",
      "is a cycle back to domains[0]",
    ],
    [`export const config = {};`, "", "is missing: the script has no default export"],
    [`export default () => {};`, "", "is undefined"],
  ];
  await Promise.all(cases.map(async ([source, path, problem], i) => {
    const script = `${dir.path}/not_data_${i}.ts`;
    await Deno.writeTextFile(script, `${source}\n`);
    const error = await rejection(evaluate(script));
    assert.ok(error instanceof ScriptOutputError, `${source}: ${error.name}: ${error.message}`);
    assert.equal(error.path, path, source);
    assert.equal(error.problem, problem, source);
  }));
});

Deno.test("the child's serializer names where a value is not JSON data (in process)", () => {
  const cyclic: Record<string, unknown> = { name: "web" };
  cyclic.self = { back: cyclic };
  class Domain {
    name = "web";
  }
  let deep: unknown = {};
  for (let i = 0; i < 1001; i++) deep = { d: deep };
  const cases: [string, unknown, string, string][] = [
    [
      "function",
      { domains: [{ name: "web", build: () => 1 }] },
      "domains[0].build",
      "is a function",
    ],
    ["toJSON is not called", { toJSON: () => ({}) }, "toJSON", "is a function"],
    ["symbol", { tag: Symbol("web") }, "tag", "is a Symbol (Symbol(web))"],
    ["bigint", { memory: 512n }, "memory", "is a BigInt (512n)"],
    [
      "undefined in an array",
      { disks: ["xvda", undefined] },
      "disks[1]",
      "is undefined (an array cannot hold it)",
    ],
    // deno-lint-ignore no-sparse-arrays
    [
      "a hole in an array",
      { disks: ["xvda", , "xvdc"] },
      "disks[1]",
      "is undefined (an array cannot hold it)",
    ],
    ["cycle", { domains: [cyclic] }, "domains[0].self.back", "is a cycle back to domains[0]"],
    ["cycle to the root", cyclic, "self.back", "is a cycle back to the value itself"],
    ["Date", { created: new Date(0) }, "created", "is a Date object, not a plain object or array"],
    ["Map", { devices: new Map() }, "devices", "is a Map object, not a plain object or array"],
    [
      "class instance",
      { web: new Domain() },
      "web",
      "is a Domain object, not a plain object or array",
    ],
    [
      "typed array",
      { bytes: new Uint8Array(2) },
      "bytes",
      "is a Uint8Array object, not a plain object or array",
    ],
    ["NaN", { "vcpus-max": NaN }, `["vcpus-max"]`, "is NaN, not a finite number"],
    ["Infinity", { a: [Infinity] }, "a[0]", "is Infinity, not a finite number"],
    [
      "getter that throws",
      {
        get memory() {
          throw new RangeError("not yet");
        },
      },
      "memory",
      "could not be read: RangeError: not yet",
    ],
    [
      "proxy whose getOwnPropertyDescriptor trap throws",
      {
        p: new Proxy({ a: 1 }, {
          getOwnPropertyDescriptor() {
            throw new Error("trap");
          },
        }),
      },
      "p.a",
      "could not be read: Error: trap",
    ],
    [
      "proxy whose ownKeys trap throws",
      {
        p: new Proxy({}, {
          ownKeys() {
            throw new Error("no keys");
          },
        }),
      },
      "p",
      "could not be read: Error: no keys",
    ],
    [
      "too deep",
      deep,
      "d".repeat(1000).split("").join("."),
      "is nested more than 1000 levels deep",
    ],
    ["undefined", undefined, "", "is undefined"],
  ];
  for (const [name, value, path, problem] of cases) {
    assert.deepEqual(serialize(value), { kind: "output", path, problem }, name);
  }
  const ok = Object.assign(Object.create(null), {
    name: "wéb ✓",
    n: -0,
    nested: [null, true, 1.5, "x"],
  });
  const report = serialize({ a: ok, optional: undefined, "quoted key": 1 });
  assert.equal(report.kind, "ok");
  assert.deepEqual(JSON.parse((report as { json: string }).json), {
    a: { name: "wéb ✓", n: 0, nested: [null, true, 1.5, "x"] },
    "quoted key": 1,
  });
});

Deno.test("evaluateScript() omits undefined fields, as JSON does", async () => {
  await using dir = await tempDir();
  const script = `${dir.path}/optional.ts`;
  await Deno.writeTextFile(script, `export default { name: "web", uuid: undefined, vcpus: 2 };\n`);
  assert.deepEqual(await evaluate(script), { name: "web", vcpus: 2 });
});

Deno.test("evaluateScript() returns the value however much the script prints to stdout", async () => {
  assert.deepEqual(await evaluate(fixture("stdout.ts")), { domains: [{ name: "web" }] });
});

Deno.test("evaluateScript() awaits a default-exported async function", async () => {
  assert.deepEqual(await evaluate(fixture("async_function.ts")), {
    domains: [{ name: "web", memory: "512M" }, { name: "db", vcpus: 2 }],
  });
});

Deno.test("evaluateScript() reports what the script threw, with its stack", async () => {
  const error = await rejection(evaluate(fixture("throws.ts")));
  assert.ok(error instanceof ScriptFailedError, `${error.name}: ${error.message}`);
  assert.equal(error.message, `${fixture("throws.ts")}: failed: RangeError: no site configured`);
  assert.match(error.scriptStack ?? "", /throws\.ts:3:/);
});

Deno.test("evaluateScript() reports a script that exits before returning a value", async () => {
  const error = await rejection(evaluate(fixture("exits.ts")));
  assert.ok(error instanceof ScriptFailedError, `${error.name}: ${error.message}`);
  assert.equal(
    error.message,
    `${fixture("exits.ts")}: failed: it exited (code 0) before returning a value`,
  );
});

Deno.test("evaluateScript() leaves a script no origin storage to carry data between runs", async () => {
  assert.deepEqual(await evaluate(fixture("storage.ts")), {
    localStorage: "undefined",
    caches: "undefined",
  });
});

Deno.test("evaluateScript() kills the script when the caller aborts", async () => {
  const controller = new AbortController();
  const run = evaluateScript(fixture("loop.ts"), { signal: controller.signal });
  setTimeout(() => controller.abort(new Error("stop it")), 300);
  const error = await rejection(run);
  assert.equal(error.message, "stop it");
});

/** Pids of the processes whose parent is `pid` (Linux /proc). */
/** `ps` output for `args` (the test task has no --allow-all, which reading /proc needs). */
async function ps(args: string[]): Promise<string | undefined> {
  const { success, stdout } = await new Deno.Command("ps", { args, stdout: "piped" }).output();
  return success ? new TextDecoder().decode(stdout) : undefined;
}

/** The children of `pid` with their command lines. */
async function childrenOf(pid: number): Promise<{ pid: number; args: string }[]> {
  const out = await ps(["-o", "pid=,args=", "--ppid", String(pid)]) ?? "";
  return out.split("\n").map((l) => /^\s*(\d+)\s+(.*)$/.exec(l)).filter((m) => m !== null)
    .map((m) => ({ pid: Number(m[1]), args: m[2]! }));
}

async function alive(pid: number): Promise<boolean> {
  const state = (await ps(["-o", "stat=", "-p", String(pid)]))?.trim();
  return state !== undefined && state !== "" && !state.startsWith("Z");
}

Deno.test("evaluateScript() leaves no script running when the caller is killed", async () => {
  const driver = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../testdata/sandbox/orphan_driver.ts", import.meta.url).pathname,
      fixture("idle.ts"),
      "600000",
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  let sandboxed: number[] = [];
  for (let i = 0; i < 300 && sandboxed.length === 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (const child of await childrenOf(driver.pid)) {
      if (child.args.includes("_sandbox_child.ts")) sandboxed = [child.pid];
    }
  }
  assert.equal(sandboxed.length, 1, "the sandboxed child never started");
  const pid = sandboxed[0] as number;
  await new Promise((resolve) => setTimeout(resolve, 1000));
  assert.equal(await alive(pid), true, "the sandboxed child runs while its caller does");
  driver.kill("SIGKILL");
  await driver.status;
  for (let i = 0; i < 100 && await alive(pid); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(await alive(pid), false, `the sandboxed child ${pid} outlived its caller`);
});

Deno.test("evaluateScript() says so when dxl itself cannot start in the sandbox", async () => {
  // A copy of the sandbox whose mod.ts is broken: the script never runs.
  await using dir = await tempDir();
  const root = new URL("../../", import.meta.url);
  await Deno.mkdir(`${dir.path}/lib/config`, { recursive: true });
  for (const file of ["deno.json", "deno.lock"]) {
    await Deno.copyFile(new URL(file, root), `${dir.path}/${file}`);
  }
  for await (const entry of Deno.readDir(new URL("lib/config/", root))) {
    if (/^(_sandbox_.*|evaluate|errors)\.ts$/.test(entry.name)) {
      await Deno.copyFile(
        new URL(`lib/config/${entry.name}`, root),
        `${dir.path}/lib/config/${entry.name}`,
      );
    }
  }
  await Deno.writeTextFile(`${dir.path}/mod.ts`, `throw new Error("this dxl is broken");\n`);
  const copy = await import(`file://${dir.path}/lib/config/evaluate.ts`);
  const errors = await import(`file://${dir.path}/lib/config/errors.ts`);
  const script = fixture("async_function.ts");
  const error = await rejection(copy.evaluateScript(script, { timeoutMs: 60_000 }));
  assert.ok(error instanceof errors.ScriptError, `${error.name}: ${error.message}`);
  assert.ok(!(error instanceof errors.ScriptFailedError), error.message);
  assert.match(
    error.message,
    /async_function\.ts: cannot run: dxl failed to start in the sandbox: .*this dxl is broken/,
  );
});

Deno.test("evaluateScript() rejects bad options and a missing script", async () => {
  await assert.rejects(evaluate(fixture("env.ts"), { timeoutMs: 0 }), RangeError);
  await assert.rejects(evaluate(fixture("env.ts"), { memoryMb: 1 }), RangeError);
  await assert.rejects(evaluate(fixture("env.ts"), { allowRead: ["a,b"] }), TypeError);
  await assert.rejects(evaluate(fixture("env.ts"), { allowEnv: [""] }), TypeError);
  // Deno splits permission flags at commas: a folder named "x,/etc" must not grant /etc
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/x,`, { recursive: true });
  await Deno.mkdir(`${dir.path}/x,/etc`);
  await Deno.writeTextFile(`${dir.path}/x,/etc/web.ts`, `export default {};\n`);
  const comma = await rejection(evaluate(`${dir.path}/x,/etc/web.ts`));
  assert.ok(comma instanceof ScriptError, comma.message);
  assert.match(
    comma.message,
    /cannot grant ".*x,\/etc": Deno's permission flags cannot name a path with ","/,
  );
  const error = await rejection(evaluate(fixture("no_such_script.ts")));
  assert.ok(error instanceof ScriptError);
  assert.match(error.message, /no_such_script\.ts: cannot open/);
});
