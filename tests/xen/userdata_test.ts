/**
 * libxl's userdata files and lock, in a temp dir. The lock is tested against another
 * process holding `flock(2)` on the same file (util-linux `flock`, as libxl's `flock(fd,
 * LOCK_EX)` would).
 */

import assert from "node:assert/strict";
import { DomainUserdataError } from "../../lib/xen/errors.ts";
import { domainConfig, withDevice, withName } from "../../lib/xen/libxl_config.ts";
import {
  deleteDomainUserdata,
  readDomainConfig,
  updateDomainConfig,
  userdataPath,
  withUserdataLock,
  writeDomainConfig,
} from "../../lib/xen/userdata.ts";
import { mayRun, tryRun } from "./_prereq.ts";

const UUID = "6e1a7b52-3c4d-4e5f-8a9b-0c1d2e3f4a5b";
const DOM = { domid: 1, uuid: UUID };

Deno.test("writeDomainConfig() writes libxl's file: name, 0600, JSON with libxl's NUL", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const config = domainConfig({ uuid: UUID, name: "guest1", maxMemKb: 262144, vcpus: 2 });
    await writeDomainConfig(DOM, config, { dir });
    const path = `${dir}/userdata-d.1.${UUID}.libxl-json`;
    assert.equal(userdataPath(DOM, "d", { dir }), path);
    const bytes = await Deno.readFile(path);
    assert.equal(bytes.at(-1), 0, "terminated by NUL as libxl stores it");
    assert.deepEqual(JSON.parse(new TextDecoder().decode(bytes.subarray(0, -1))), config);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), [
      `userdata-d.1.${UUID}.libxl-json`,
    ], "no temp or lock file left");
    assert.deepEqual(await readDomainConfig(DOM, { dir }), config);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("withUserdataLock() waits for another process's flock on libxl's lock file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const lock = userdataPath(DOM, "l", { dir });
    const probe = await tryRun("flock", ["--version"]);
    if (!mayRun("the cross-process lock test", probe.ok ? undefined : "no flock(1) (util-linux)")) {
      return;
    }
    const ready = `${dir}/held`;
    const holder = new Deno.Command("flock", {
      args: [lock, "-c", `touch ${ready}; sleep 0.6`],
      stdout: "null",
      stderr: "null",
    }).spawn();
    while (!(await Deno.stat(ready).then(() => true, () => false))) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const started = Date.now();
    const ran = await withUserdataLock(DOM, () => Promise.resolve(Date.now()), { dir });
    assert.ok(ran - started >= 300, `waited for the other holder (${ran - started} ms)`);
    assert.ok((await holder.status).success);
    await assert.rejects(Deno.stat(lock), Deno.errors.NotFound, "unlinked on release");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("updateDomainConfig() is read-modify-write; a domain without a file keeps none", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeDomainConfig(DOM, domainConfig({ uuid: UUID, name: "a", maxMemKb: 1024 }), { dir });
    const disk = {
      kind: "vbd",
      devid: 51712,
      backendKind: "qdisk",
      keys: { params: "qcow2:/srv/a.qcow2", dev: "xvda", mode: "r" },
    } as const;
    const next = await updateDomainConfig(DOM, (c) => withDevice(withName(c, "b"), disk), { dir });
    assert.equal(next?.c_info.name, "b");
    assert.deepEqual((await readDomainConfig(DOM, { dir }))?.disks, [
      { pdev_path: "/srv/a.qcow2", vdev: "xvda", backend: "qdisk", format: "qcow2", readwrite: 0 },
    ]);
    const other = { domid: 2, uuid: UUID };
    assert.equal(await updateDomainConfig(other, (c) => c, { dir }), undefined);
    assert.equal(await readDomainConfig(other, { dir }), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a vanished domain or a corrupt file is refused naming the file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const config = domainConfig({ uuid: UUID, maxMemKb: 1024 });
    await assert.rejects(
      writeDomainConfig(DOM, config, { dir, domainExists: () => false }),
      (e: unknown) =>
        e instanceof DomainUserdataError && /domain 1 no longer exists/.test(e.message),
    );
    assert.deepEqual([...Deno.readDirSync(dir)], [], "nothing written, lock released");
    await Deno.writeTextFile(userdataPath(DOM, "d", { dir }), "{ not json");
    await assert.rejects(
      readDomainConfig(DOM, { dir }),
      (e: unknown) =>
        e instanceof DomainUserdataError && e.path === userdataPath(DOM, "d", { dir }) &&
        /not JSON/.test(e.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deleteDomainUserdata() removes the domain's files only (libxl__userdata_destroyall)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const config = domainConfig({ uuid: UUID, maxMemKb: 1024 });
    await writeDomainConfig(DOM, config, { dir });
    await Deno.writeTextFile(`${dir}/userdata-d.1.${UUID}.xl`, "x"); // another userid
    await writeDomainConfig({ domid: 11, uuid: UUID }, config, { dir }); // domid 11 ≠ 1
    const removed = await deleteDomainUserdata(DOM, { dir });
    assert.deepEqual(removed.sort(), [
      `${dir}/userdata-d.1.${UUID}.libxl-json`,
      `${dir}/userdata-d.1.${UUID}.xl`,
    ]);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), [
      `userdata-d.11.${UUID}.libxl-json`,
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
