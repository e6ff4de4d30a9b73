import assert from "node:assert/strict";
import { fromFileUrl, joinPosix } from "../_helpers/paths.ts";
import { fixture } from "./_helpers.ts";

const GOLDEN = Deno.env.get("DXL_GOLDEN") ??
  joinPosix(fromFileUrl(new URL("../../../shared/golden", import.meta.url)));

async function golden(name: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(joinPosix(GOLDEN, name));
  } catch {
    return undefined;
  }
}

const SOURCES: Record<string, string> = {
  "vbd-phy-xvdb": "block-attach-phy.tree",
  "vbd-phy-ro-xvdc": "network-attach-mac.tree",
  "vbd-file-xvdd": "network-attach-mac.tree",
  "vbd-qdisk-raw-xvde": "network-attach-mac.tree",
  "vbd-qdisk-qcow2-xvdf": "network-attach-mac.tree",
  "vbd-cdrom-xvdg": "network-attach-mac.tree",
  "vif-mac": "network-attach-mac.tree",
};
const SCRIPT_KEYS = /\/(physical-device|physical-device-path|node|hotplug-status) = /;

for (const [device, source] of Object.entries(SOURCES)) {
  Deno.test(`fixture ${device} is the golden capture minus what backend and scripts wrote`, async (t) => {
    const text = await golden(source);
    if (text === undefined) {
      await t.step({ name: `skipped: no ${GOLDEN}`, ignore: true, fn: () => {} });
      return;
    }
    const all = new Set(text.split("\n"));
    const connected = (await fixture(`${device}.connected.tree`)).split("\n").filter((l) =>
      l !== ""
    );
    for (const line of connected) assert.ok(all.has(line), `not in ${source}: ${line}`);
    const added = (await fixture(`${device}.added.tree`)).split("\n").filter((l) => l !== "");
    const expected = connected
      .filter((l) =>
        !SCRIPT_KEYS.test(l) || (device === "vif-mac" && l.includes("/hotplug-status"))
      )
      .map((l) =>
        l.replace(/(\/backend\/[a-z0-9_]+\/\d+\/\d+\/state) = "\d"/, '$1 = "1"')
          .replace(/hotplug-status = "connected"/, 'hotplug-status = ""')
      );
    assert.deepEqual(added, expected);
  });
}

Deno.test("fixture traces are xl's requests of the golden traces, in order", async (t) => {
  const pairs = [
    ["block-attach-phy.add.trace", "block-attach-phy.trace", 1],
    ["network-attach-mac.add.trace", "network-attach-mac.trace", 1],
    ["create-pv.make.trace", "create-pv.trace", 1],
    ["create-pv.build.trace", "create-pv.trace", 2],
    ["create-pv.console.trace", "create-pv.trace", 3],
  ] as const;
  for (const [mine, source, tx] of pairs) {
    const text = await golden(source);
    if (text === undefined) {
      await t.step({ name: `skipped: no ${GOLDEN}`, ignore: true, fn: () => {} });
      return;
    }
    const want = text.split("\n").flatMap((line) => {
      const m = /^\d+ c\d+ xl\[\d+\] > (\S+) tx=(\d+) req=\d+ \|(.*)$/.exec(line);
      if (m === null || Number(m[2]) !== tx || m[1] === "TRANSACTION_END") return [];
      return [`${m[1]} |${m[3]}`];
    });
    assert.deepEqual((await fixture(mine)).split("\n").filter((l) => l !== ""), want, mine);
  }
});
