/**
 * A guest domain's connection (`server.guest(N)`): relative paths, permission failures and
 * watches, against every server.
 */

import assert from "node:assert/strict";
import { XenstoreError } from "../../lib/protocol/mod.ts";
import { connect } from "../../lib/client/mod.ts";
import { forEachServer } from "../_helpers/servers.ts";

function isCode(code: string): (e: unknown) => boolean {
  return (e) => e instanceof XenstoreError && e.code === code;
}

forEachServer("a guest connection", async (t, server) => {
  await using dom0 = await connect({ path: server.socket });
  await dom0.write("/secret/key", "s3cret");
  await dom0.write("/public/key", "hello");
  await dom0.setPerms("/public/key", "r0"); // owner dom0; entry 0 is the default: read
  const socket = await server.guest(5);
  await using guest = await connect({ path: socket });

  await t.step("relative paths resolve under /local/domain/<domid>", async () => {
    await guest.write("data/x", "42");
    assert.equal(await dom0.read("/local/domain/5/data/x"), "42");
    assert.equal(await guest.read("data/x"), "42");
    assert.deepEqual(await guest.directory("data"), ["x"]);
    assert.deepEqual(await guest.getPerms("data/x"), [
      { domid: 5, access: "none" },
      { domid: 0, access: "read" },
    ]);
  });
  await t.step("getDomainPath() as a guest names its own home", async () => {
    assert.equal(await guest.getDomainPath(5), "/local/domain/5");
  });
  await t.step("reading a node without permission rejects with EACCES", async () => {
    await assert.rejects(guest.read("/secret/key"), isCode("EACCES"));
    assert.equal(await guest.read("/public/key"), "hello");
  });
  await t.step("writing outside its home rejects with EACCES", async () => {
    await assert.rejects(guest.write("/evil", "x"), isCode("EACCES"));
    await assert.rejects(guest.write("/public/key", "x"), isCode("EACCES"));
    assert.equal(await dom0.exists("/evil"), false);
  });
  await t.step("a missing node under an unreadable parent: EACCES or ENOENT (D3)", async () => {
    // C checks the parent's permission first (EACCES); oxenstored reports ENOENT.
    const code = server.kind === "ocaml" ? "ENOENT" : "EACCES";
    await assert.rejects(guest.read("/secret/missing"), isCode(code));
  });
  await t.step("a guest cannot use privileged operations", async () => {
    await assert.rejects(guest.introduce(6, 1, 1), isCode("EACCES"));
    await assert.rejects(guest.release(5), isCode("EACCES"));
  });
  await t.step("a guest cannot change the owner of its own node (D7)", async () => {
    // C answers EPERM, oxenstored EACCES.
    const code = server.kind === "ocaml" ? "EACCES" : "EPERM";
    await assert.rejects(guest.setPerms("data/x", "n0"), isCode(code));
    await guest.setPerms("data/x", "n5,r0,b0");
    assert.equal((await dom0.getPerms("/local/domain/5/data/x")).length, 3);
  });
  await t.step("a guest's relative watch reports relative paths", async () => {
    await using watch = guest.watch("data", { initial: false });
    await watch.ready;
    await dom0.write("/local/domain/5/data/y", "1");
    const { value } = await watch.next();
    assert.deepEqual(value, { kind: "change", path: "data/y", token: watch.token, initial: false });
  });
  await t.step("a guest transaction commits under its home", async () => {
    await guest.transaction(async (tx) => {
      await tx.write("txd/a", "1");
      await tx.write("txd/b", "2");
    });
    assert.deepEqual(await dom0.directory("/local/domain/5/txd"), ["a", "b"]);
  });
});
