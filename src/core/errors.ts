/**
 * Typed errors, grouped by how an operator or the code should react (Freqtrade's habit):
 * config/usage errors stop the process with a message; data errors reject one input and go on;
 * temporary errors may be retried; safety errors are never retried.
 */
export class AwetError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad or unknown configuration: names the file and key. */
export class ConfigError extends AwetError {
  constructor(message: string) {
    super(message, "config_error", 2);
  }
}

/** Bad command-line usage. */
export class UsageError extends AwetError {
  constructor(message: string) {
    super(message, "usage_error", 2);
  }
}

/** One bad input record (a CSV row, a bar): rejected with a reason, the run goes on. */
export class DataError extends AwetError {
  constructor(
    message: string,
    readonly reason: string,
  ) {
    super(message, "data_error");
  }
}

/** A missing file, an unreadable directory. */
export class InputError extends AwetError {
  constructor(message: string) {
    super(message, "input_error", 1);
  }
}

/** Something that would break a paper-only safety invariant. Never retried. */
export class SafetyError extends AwetError {
  constructor(message: string) {
    super(message, "safety_error", 3);
  }
}

/** A store failure, with the operation that failed attached. */
export class StoreError extends AwetError {
  constructor(
    message: string,
    readonly op: string,
    override readonly cause?: unknown,
  ) {
    super(message, "store_error");
  }
}

/** A network/port/bind failure at start. */
export class StartupError extends AwetError {
  constructor(message: string) {
    super(message, "startup_error", 1);
  }
}

export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
