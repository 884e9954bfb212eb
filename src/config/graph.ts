/** dependsOn graphs: `deps.get(a)` lists the workers `a` waits for. Config files are small, so clarity beats big-O. */
export type Deps = ReadonlyMap<string, readonly string[]>;

/** One cycle per group of mutually dependent workers, as `[a, b, a]`, starting at the one listed first. */
export function findCycles(order: readonly string[], deps: Deps): string[][] {
  const reach = new Map(order.map((n) => [n, reachable(n, deps)]));
  const seen = new Set<string>();
  const cycles: string[][] = [];
  for (const start of order) {
    if (seen.has(start) || !reach.get(start)!.has(start)) continue;
    const group = new Set(order.filter((n) => reach.get(start)!.has(n) && reach.get(n)!.has(start)));
    for (const n of group) seen.add(n);
    cycles.push(shortestLoop(start, deps, group));
  }
  return cycles;
}

/** Dependencies before dependents; otherwise the order the workers are listed in. Assumes no cycles. */
export function startOrder(order: readonly string[], deps: Deps): string[] {
  const placed = new Set<string>();
  const out: string[] = [];
  while (out.length < order.length) {
    const next = order.find((n) => !placed.has(n) && (deps.get(n) ?? []).every((d) => placed.has(d)));
    if (next === undefined) throw new Error('startOrder called on a graph with a cycle');
    placed.add(next);
    out.push(next);
  }
  return out;
}

function reachable(from: string, deps: Deps): Set<string> {
  const found = new Set<string>();
  const stack = [...(deps.get(from) ?? [])];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (found.has(n)) continue;
    found.add(n);
    stack.push(...(deps.get(n) ?? []));
  }
  return found;
}

function shortestLoop(start: string, deps: Deps, within: ReadonlySet<string>): string[] {
  const cameFrom = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const n = queue.shift()!;
    for (const d of deps.get(n) ?? []) {
      if (d === start) {
        const path = [start];
        for (let at: string | undefined = n; at !== start && at !== undefined; at = cameFrom.get(at)) path.splice(1, 0, at);
        return [...path, start];
      }
      if (within.has(d) && !cameFrom.has(d)) {
        cameFrom.set(d, n);
        queue.push(d);
      }
    }
  }
  return [start, start];
}
