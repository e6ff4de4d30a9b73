// Throws while loading.
function check(site: string | undefined): string {
  if (site === undefined) throw new RangeError("no site configured");
  return site;
}
export default { site: check(undefined) };
