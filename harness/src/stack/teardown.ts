/**
 * Teardown: the undo list of a stack being built. Each component registers how to undo itself the moment it exists,
 * so a start-up that fails half way, a stop() and a Ctrl-C all undo exactly what was done, newest first (the edge
 * before the redirector before the buckets, and the temp dir last). Every step runs even when an earlier one fails;
 * the failures are reported together.
 */
export interface TeardownFailure {
  step: string;
  error: unknown;
}

export class Teardown {
  private readonly steps: { name: string; run: () => Promise<unknown> | unknown }[] = [];
  private running: Promise<TeardownFailure[]> | null = null;

  add(name: string, run: () => Promise<unknown> | unknown): void {
    if (this.running) {
      // registered after teardown began (a component that finished starting too late): undo it at once
      void Promise.resolve()
        .then(run)
        .catch(() => {});
      return;
    }
    this.steps.push({ name, run });
  }

  /** Runs every step once, newest first. Idempotent: later calls get the first call's result. */
  run(): Promise<TeardownFailure[]> {
    this.running ??= (async () => {
      const failures: TeardownFailure[] = [];
      for (const step of this.steps.splice(0).reverse()) {
        try {
          await step.run();
        } catch (error) {
          failures.push({ step: step.name, error });
        }
      }
      return failures;
    })();
    return this.running;
  }

  get started(): boolean {
    return this.running !== null;
  }
}
