/**
 * The node, domain and admin operations against every server (`forEachServer`).
 */

import assert from "node:assert/strict";
import {
  encodeArgs,
  Feature,
  InvalidPathError,
  Op,
  PayloadTooLargeError,
  XenstoreError,
} from "../../lib/protocol/mod.ts";
import { connect } from "../../lib/client/mod.ts";
import { forEachServer } from "../_helpers/servers.ts";

async function rejectsWith(p: Promise<unknown>, code: string, op?: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof XenstoreError, `expected XenstoreError, got ${e}`);
    assert.equal(e.code, code);
    if (op !== undefined) assert.equal(e.op, op);
    return true;
  });
}

forEachServer("read/write/mkdir/rm/exists round trip values", async (t, server) => {
  await using xs = await connect({ path: server.socket });
  await t.step("write() then read() returns the text", async () => {
    await xs.write("/t/a", "héllo");
    assert.equal(await xs.read("/t/a"), "héllo");
  });
  await t.step("readBytes() returns raw bytes, including NUL and high bytes", async () => {
    const bytes = new Uint8Array([0, 1, 255, 0, 7]);
    await xs.write("/t/bin", bytes);
    assert.deepEqual(await xs.readBytes("/t/bin"), bytes);
  });
  await t.step("write() creates missing ancestors with empty values", async () => {
    await xs.write("/t/deep/er/node", "x");
    assert.equal(await xs.read("/t/deep/er"), "");
  });
  await t.step("mkdir() creates an empty node and succeeds if it exists", async () => {
    await xs.mkdir("/t/dir");
    await xs.mkdir("/t/dir");
    assert.equal(await xs.read("/t/dir"), "");
  });
  await t.step("exists() and tryRead() map ENOENT to false/undefined", async () => {
    assert.equal(await xs.exists("/t/a"), true);
    assert.equal(await xs.exists("/t/missing"), false);
    assert.equal(await xs.tryRead("/t/missing"), undefined);
    assert.equal(await xs.tryRead("/t/a"), "héllo");
  });
  await t.step("rm() removes a subtree", async () => {
    await xs.rm("/t/deep");
    assert.equal(await xs.exists("/t/deep/er/node"), false);
    assert.equal(await xs.exists("/t/deep"), false);
  });
  await t.step("read() rejects with ENOENT for a missing node", async () => {
    await rejectsWith(xs.read("/t/nope"), "ENOENT", "READ");
    const e = await xs.read("/t/nope").catch((e) => e);
    assert.equal(e.path, "/t/nope");
    assert.match(e.message, /READ "\/t\/nope": ENOENT/);
  });
  await t.step("rm() of a node whose parent is missing rejects with ENOENT", async () => {
    await rejectsWith(xs.rm("/t/nope/child"), "ENOENT", "RM");
  });
  await t.step("a value of exactly 2048 bytes round trips", async () => {
    const value = "v".repeat(2048);
    await xs.write("/t/big", value);
    assert.equal(await xs.read("/t/big"), value);
  });
});

forEachServer("directory() lists children, per server order", async (t, server) => {
  await using xs = await connect({ path: server.socket });
  await t.step("directory() lists children by leaf name", async () => {
    for (const name of ["zeta", "alpha", "mid"]) await xs.write(`/d/${name}`, "");
    const children = await xs.directory("/d");
    // D4: C keeps insertion order, oxenstored sorts.
    const expected = server.kind === "ocaml" ? ["alpha", "mid", "zeta"] : ["zeta", "alpha", "mid"];
    assert.deepEqual(children, expected);
  });
  await t.step("directory() of a leaf is empty; of a missing node ENOENT", async () => {
    assert.deepEqual(await xs.directory("/d/zeta"), []);
    await rejectsWith(xs.directory("/d/none"), "ENOENT", "DIRECTORY");
  });
  await t.step("directory() of / lists the root per server (D16)", async () => {
    const root = await xs.directory("/");
    assert.ok(root.includes("d") && root.includes("tool"), root.join(","));
  });
});

forEachServer("directory() of a list over 4096 bytes", async (_t, server) => {
  await using xs = await connect({ path: server.socket });
  const names = Array.from({ length: 250 }, (_, i) => `child-with-a-long-name-${i}`);
  await Promise.all(names.map((n) => xs.write(`/big/${n}`, "")));
  if (server.kind === "ocaml") {
    // oxenstored neither sends E2BIG nor implements DIRECTORY_PART (D2): it answers with a
    // reply over the 4096-byte payload limit, which the client accepts for DIRECTORY only.
    assert.deepEqual(await xs.directory("/big"), [...names].sort()); // D4: sorted
    return;
  }
  // C answers DIRECTORY with E2BIG; the client reads it with DIRECTORY_PART.
  await rejectsWith(xs.request(Op.Directory, encodeArgs(["/big"])), "E2BIG", "DIRECTORY");
  assert.deepEqual(await xs.directory("/big"), names);
});

forEachServer("permissions: getPerms/setPerms", async (t, server) => {
  await using xs = await connect({ path: server.socket });
  await t.step("a new node is owned by dom0 with no access for others", async () => {
    await xs.write("/p/a", "1");
    assert.deepEqual(await xs.getPerms("/p/a"), [{ domid: 0, access: "none" }]);
  });
  await t.step("setPerms() accepts entries and text, getPerms() returns them", async () => {
    await xs.setPerms("/p/a", [{ domid: 0, access: "none" }, { domid: 0, access: "read" }]);
    assert.deepEqual(await xs.getPerms("/p/a"), [
      { domid: 0, access: "none" },
      { domid: 0, access: "read" },
    ]);
    await xs.setPerms("/p/a", "b0");
    assert.deepEqual(await xs.getPerms("/p/a"), [{ domid: 0, access: "both" }]);
  });
  await t.step("getPerms() sends special paths (C 4.17 refuses them with EINVAL)", async () => {
    // oxenstored keeps @introduceDomain/@releaseDomain as real nodes (D16); Xen 4.17's C
    // xenstored answers GET_PERMS on them with EINVAL.
    if (server.kind === "ocaml") {
      assert.deepEqual(await xs.getPerms("@releaseDomain"), [{ domid: 0, access: "none" }]);
    } else {
      await rejectsWith(xs.getPerms("@releaseDomain"), "EINVAL", "GET_PERMS");
    }
  });
  await t.step("getPerms() of a missing node rejects with ENOENT", async () => {
    await rejectsWith(xs.getPerms("/p/none"), "ENOENT", "GET_PERMS");
  });
});

forEachServer("requests in flight and client-side validation", async (t, server) => {
  await using xs = await connect({ path: server.socket });
  await t.step("1,000 concurrent writes and reads all resolve with their own value", async () => {
    await Promise.all(Array.from({ length: 1000 }, (_, i) => xs.write(`/c/n${i}`, `v${i}`)));
    const values = await Promise.all(Array.from({ length: 1000 }, (_, i) => xs.read(`/c/n${i}`)));
    values.forEach((v, i) => assert.equal(v, `v${i}`));
  });
  await t.step("an invalid path rejects with InvalidPathError before sending", async () => {
    await assert.rejects(xs.read("/a//b"), InvalidPathError);
    await assert.rejects(xs.write("/a/", "x"), /ends with "\/"/);
    await assert.rejects(xs.read("@releaseDomain"), InvalidPathError);
    await assert.rejects(xs.mkdir("/a b"), /character " " is not allowed/);
  });
  await t.step("bad paths sent raw get EINVAL from the server", async () => {
    for (const bad of ["/a//b", "/a/", "/a b"]) {
      await rejectsWith(xs.request(Op.Read, encodeArgs([bad]), { path: bad }), "EINVAL");
      await rejectsWith(xs.request(Op.Write, encodeArgs([bad, "x"]), { path: bad }), "EINVAL");
    }
  });
  await t.step("a payload over 4096 bytes is refused with PayloadTooLargeError", async () => {
    const error = await xs.write("/c/huge", "x".repeat(4096)).catch((e) => e);
    assert.ok(error instanceof PayloadTooLargeError);
    assert.equal(error.path, "/c/huge");
    assert.equal(error.size, 4096 + "/c/huge".length + 1);
    assert.match(error.message, /WRITE "\/c\/huge": payload of 4104 bytes/);
    assert.equal(await xs.exists("/c/huge"), false);
  });
  await t.step(
    "an unknown transaction id is an error (D5: ENOENT on C, EIO on ocaml)",
    async () => {
      const code = server.kind === "ocaml" ? "EIO" : "ENOENT";
      await rejectsWith(xs.request(Op.Read, encodeArgs(["/c/n1"]), { txId: 424242 }), code);
    },
  );
});

forEachServer("domain and admin operations", async (t, server) => {
  await using xs = await connect({ path: server.socket });
  await t.step("getDomainPath() names /local/domain/<domid>", async () => {
    assert.equal(await xs.getDomainPath(0), "/local/domain/0");
    assert.equal(await xs.getDomainPath(17), "/local/domain/17");
  });
  await t.step("introduce(), isDomainIntroduced(), resume(), release()", async () => {
    assert.equal(await xs.isDomainIntroduced(0), true);
    assert.equal(await xs.isDomainIntroduced(9), false);
    await server.guest(9); // creates domain 9 in the fake hypervisor and introduces it
    assert.equal(await xs.isDomainIntroduced(9), true);
    await xs.resume(9);
    await xs.release(9);
    assert.equal(await xs.isDomainIntroduced(9), false);
    await xs.introduce(9, 0x1234, 5);
    assert.equal(await xs.isDomainIntroduced(9), true);
    await xs.release(9);
  });
  await t.step("setTarget() of an introduced domain succeeds", async () => {
    await server.guest(10);
    await server.guest(11);
    await xs.setTarget(10, 11);
  });
  await t.step("resetWatches() ends every watch iterator", async () => {
    const watch = xs.watch("/r");
    await watch.ready;
    await xs.resetWatches();
    const seen = [];
    for await (const ev of watch) seen.push(ev); // ends after the buffered initial event
    assert.deepEqual(seen.map((e) => e.kind === "change" && e.initial), [true]);
  });
  await t.step("control() returns the server's text", async () => {
    // CONTROL's commands are implementation-specific: C lists them, oxenstored says OK.
    const help = await xs.control("help");
    if (server.kind === "c") assert.match(help, /quota/);
    else if (server.kind === "ocaml") assert.equal(help, "OK");
    else assert.equal(typeof help, "string");
  });
  await t.step("control() sends a list as the command and its arguments", async () => {
    // C answers "log" with an argument; both daemons reject an unknown command.
    if (server.kind === "c") assert.equal(await xs.control(["log", "off"]), "OK");
    if (server.kind !== "ocaml") {
      await assert.rejects(xs.control(["no-such-command", "x"]), XenstoreError);
    }
    await assert.rejects(xs.control([]), /control\(\) needs a command name/);
  });
  await t.step("domids outside 0..65535 are refused before sending", async () => {
    await assert.rejects(xs.getDomainPath(-1), RangeError);
    await assert.rejects(xs.release(1.5), /domid must be an integer/);
  });
  await t.step("GET/SET_FEATURE and GET/SET_QUOTA (ENOSYS on Xen 4.17)", async () => {
    if (server.kind === "embedded") {
      // The embedded xenstored implements them (as Xen 4.18+ does).
      assert.ok((await xs.getFeature()) & Feature.WatchDepth);
      assert.ok((await xs.listQuotas()).includes("nodes"));
      await xs.setQuota("nodes", 4321);
      assert.equal(await xs.getQuota("nodes"), 4321);
      return;
    }
    // Both 4.17 daemons predate these messages and answer ENOSYS. oxenstored handles a frame
    // with an empty payload only once more bytes arrive (alone, it never answers: a `signal`
    // bounds that wait), so each argument-less request goes out followed by another.
    for (
      const [call, op] of [[() => xs.getFeature(), "GET_FEATURE"], [
        () => xs.listQuotas(),
        "GET_QUOTA",
      ]] as const
    ) {
      const reply = call();
      const next = xs.exists("/");
      await rejectsWith(reply, "ENOSYS", op);
      assert.equal(await next, true);
    }
    await rejectsWith(xs.getFeature(0), "ENOSYS", "GET_FEATURE");
    await rejectsWith(xs.setFeature(0, 1), "ENOSYS", "SET_FEATURE");
    await rejectsWith(xs.getQuota("nodes"), "ENOSYS", "GET_QUOTA");
    await rejectsWith(xs.setQuota("nodes", 10, { domid: 1 }), "ENOSYS", "SET_QUOTA");
  });
});
