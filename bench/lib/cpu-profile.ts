/** Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time by function and by component. */

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  /** Self time by function, largest first. */
  frames: Array<{ name: string; where: string; component: string; ms: number; share: number }>;
  /** Self time by component (library or connector folder), builtins charged to their caller's component. */
  components: Array<{ component: string; ms: number; share: number }>;
}

const SPECIAL = new Map([
  ['(garbage collector)', 'GC'],
  ['(idle)', 'idle (waiting for I/O)'],
  ['(program)', 'V8/native (program)'],
  ['(root)', 'V8/native (program)'],
]);

/** The component a source URL belongs to, or undefined for builtins without a URL. */
function componentOf(url: string): string | undefined {
  if (url === '') return undefined;
  const lib = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (lib) {
    const name = lib[1] as string;
    return name === 'yocto-queue' ? 'p-limit' : name;
  }
  const own = /\/(connector|bench)\/([^/]+)\//.exec(url);
  if (own) return own[1] === 'bench' ? 'bench harness' : `connector/${own[2]}`;
  if (url.startsWith('node:')) return 'node core (net, http, streams, timers)';
  return 'other';
}

function shortUrl(url: string): string {
  const lib = /node_modules\/(.+)$/.exec(url);
  if (lib) return lib[1] as string;
  const own = /\/((?:connector|bench)\/.+)$/.exec(url);
  if (own) return own[1] as string;
  return url.replace(/^file:\/\//, '');
}

export function summariseProfile(profile: CpuProfile, top = 15): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Builtins (empty URL, e.g. encodeURIComponent) are charged to the nearest caller with a URL.
  const componentCache = new Map<number, string>();
  const component = (id: number): string => {
    const cached = componentCache.get(id);
    if (cached) return cached;
    const node = byId.get(id) as ProfileNode;
    const special = SPECIAL.get(node.callFrame.functionName);
    let result = special ?? componentOf(node.callFrame.url);
    if (result === undefined) {
      const up = parent.get(id);
      result = up === undefined ? 'V8/native (program)' : component(up);
      if (result === 'V8/native (program)' || result.startsWith('idle') || result === 'GC') result = 'V8/native (program)';
    }
    componentCache.set(id, result);
    return result;
  };

  const selfMs = new Map<number, number>();
  let totalMs = 0;
  profile.samples.forEach((id, i) => {
    // timeDeltas[i] is the time since the previous sample; charge it to the sample that follows it.
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    selfMs.set(id, (selfMs.get(id) ?? 0) + ms);
    totalMs += ms;
  });

  const frames = new Map<string, { name: string; where: string; component: string; ms: number }>();
  const components = new Map<string, number>();
  for (const [id, ms] of selfMs) {
    const node = byId.get(id) as ProfileNode;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = SPECIAL.get(functionName) ?? (functionName || '(anonymous)');
    // Code compiled by tsx reports line 0 for every function: then the file alone.
    const where = url ? (lineNumber > 0 ? `${shortUrl(url)}:${lineNumber + 1}` : shortUrl(url)) : '(builtin)';
    const comp = component(id);
    const key = `${name}|${where}|${comp}`;
    const entry = frames.get(key) ?? { name, where, component: comp, ms: 0 };
    entry.ms += ms;
    frames.set(key, entry);
    components.set(comp, (components.get(comp) ?? 0) + ms);
  }
  return {
    totalMs,
    frames: [...frames.values()]
      .sort((a, b) => b.ms - a.ms)
      .slice(0, top)
      .map((f) => ({ ...f, share: f.ms / totalMs })),
    components: [...components].map(([c, ms]) => ({ component: c, ms, share: ms / totalMs })).sort((a, b) => b.ms - a.ms),
  };
}
