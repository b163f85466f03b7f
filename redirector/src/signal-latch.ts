/**
 * The process's termination signals (SIGTERM, SIGINT), caught from the moment an entry point arms the latch, which it
 * does before it loads anything else. A signal that arrives while the server's modules are still loading, or while it
 * starts, is held and handed to the first waiter; without the latch Node's default action would end the process with
 * 143 and no drain. This module imports nothing, so arming it costs no start-up time.
 */
type Waiter = (signal: NodeJS.Signals) => void;

let armed = false;
let pending: NodeJS.Signals | null = null;
const waiters = new Set<Waiter>();

function deliver(signal: NodeJS.Signals): void {
  if (waiters.size === 0) {
    pending ??= signal;
    return;
  }
  for (const w of [...waiters]) w(signal);
}
const onTerm = (): void => deliver('SIGTERM');
const onInt = (): void => deliver('SIGINT');

/** Starts catching SIGTERM and SIGINT (idempotent). */
export function armSignalLatch(): void {
  if (armed) return;
  armed = true;
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
}

/** Stops catching them: the next one takes Node's default action again. A held signal is dropped. */
export function disarmSignalLatch(): void {
  if (!armed) return;
  armed = false;
  pending = null;
  process.off('SIGTERM', onTerm);
  process.off('SIGINT', onInt);
}

/**
 * Waits for the first signal, arming the latch if no entry point did; a signal held since arming resolves it at once.
 * Settling or cancelling disarms the latch when no other waiter is left, so a second signal (a second Ctrl-C, the
 * platform's follow-up) takes the default action.
 */
export function nextSignal(): Promise<NodeJS.Signals> & { cancel: () => void } {
  armSignalLatch();
  let waiter: Waiter | undefined;
  const release = (): void => {
    if (waiter) waiters.delete(waiter);
    if (waiters.size === 0) disarmSignalLatch();
  };
  const p = new Promise<NodeJS.Signals>((resolve) => {
    if (pending !== null) {
      const held = pending;
      pending = null;
      resolve(held);
      queueMicrotask(release);
      return;
    }
    waiter = (signal) => {
      release();
      resolve(signal);
    };
    waiters.add(waiter);
  });
  return Object.assign(p, { cancel: release });
}
