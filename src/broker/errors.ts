import { AwetError } from "../core/errors";

/** The broker said no, definitively (a 4xx with its message): store `rejected`, never retry. */
export class BrokerRejected extends AwetError {
  constructor(message: string, readonly status?: number) {
    super(message, "broker_rejected");
  }
}

/**
 * The outcome of a submission is unknown (timeout, reset, 5xx, no answer): the order may or may
 * not exist at the broker. The row stays `pending_submit`; the reconciler looks it up by
 * client_order_id. Never re-POSTed.
 */
export class BrokerAmbiguous extends AwetError {
  constructor(message: string) {
    super(message, "broker_ambiguous");
  }
}

/** A read that may be retried (429, 5xx, timeout), with the broker's Retry-After when given. */
export class BrokerTemporary extends AwetError {
  constructor(message: string, readonly retryAfterMs: number | null = null) {
    super(message, "broker_temporary");
  }
}
