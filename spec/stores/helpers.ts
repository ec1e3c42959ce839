import type { TokenGrant, TokenRequest, TokenStore } from '../../src/index';

/** A store request the test answers by hand, in virtual time. */
export interface HeldRequest {
  request: TokenRequest;
  /** Answers with a grant (the store's `time` is irrelevant to the operator). */
  answer(grant: Partial<TokenGrant>): void;
  /** Fails with `err`. */
  fail(err: unknown): void;
  /** Whether an answer or failure was given. */
  readonly settled: boolean;
}

/**
 * A store whose every request waits until the test answers it, through a thenable that calls back
 * synchronously (so that virtual-time tests need no microtask flushing).
 */
export class ManualStore implements TokenStore {
  readonly requests: HeldRequest[] = [];
  /** Set to make `acquire` throw instead. */
  throwOnAcquire: Error | undefined = undefined;

  acquire(request: TokenRequest): PromiseLike<TokenGrant> {
    if (this.throwOnAcquire !== undefined) throw this.throwOnAcquire;
    let onFulfilled: ((g: TokenGrant) => unknown) | undefined;
    let onRejected: ((e: unknown) => unknown) | undefined;
    let settled = false;
    const held: HeldRequest = {
      request: { ...request },
      answer: (grant) => {
        if (settled) throw new Error('answered twice');
        settled = true;
        onFulfilled?.({ granted: true, delay: 0, time: 0, ...grant });
      },
      fail: (err) => {
        if (settled) throw new Error('answered twice');
        settled = true;
        onRejected?.(err);
      },
      get settled() {
        return settled;
      },
    };
    this.requests.push(held);
    return {
      then: <R1 = TokenGrant, R2 = never>(
        f?: ((value: TokenGrant) => R1 | PromiseLike<R1>) | null,
        r?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
      ): PromiseLike<R1 | R2> => {
        onFulfilled = f ?? undefined;
        onRejected = r ?? undefined;
        return undefined as unknown as PromiseLike<R1 | R2>;
      },
    };
  }

  /** The latest request not yet settled. */
  get open(): HeldRequest {
    const open = this.requests.filter((r) => !r.settled);
    const last = open[open.length - 1];
    if (!last) throw new Error('no open request');
    return last;
  }

  get openCount(): number {
    return this.requests.filter((r) => !r.settled).length;
  }
}
