/** The child side of bench/lib/children.ts: wait for `start`, run, report, exit. */

/** Runs `main` with the parent's params; `ready()` tells the parent the child is set up. */
export function serve<P, R>(main: (params: P, ready: () => void) => Promise<R>): void {
  process.once('message', (raw) => {
    const message = raw as { type: string; params: P };
    if (message.type !== 'start') return;
    const ready = () => process.send?.({ type: 'ready' });
    main(message.params, ready).then(
      (result) => finish({ type: 'result', result }, 0),
      (error: unknown) => finish({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) }, 1),
    );
  });
}

function finish(message: unknown, code: number): void {
  process.send?.(message, () => {
    process.disconnect?.();
    // Exit explicitly: kafkajs and undici may keep handles open, and --cpu-prof writes on exit.
    process.exit(code);
  });
}

/** Tells the parent that something happened now (it may start or stop a measurement). */
export function mark(name: string): void {
  process.send?.({ type: 'mark', name });
}
