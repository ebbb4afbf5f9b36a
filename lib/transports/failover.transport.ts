import { RoundRobinTransport, type RoundRobinTransportOptions } from './roundrobin.transport.js';

export type FailoverTransportOptions = RoundRobinTransportOptions;

/**
 * A round-robin that always starts with the first transport: the others are backups, used in order
 * while the ones before them fail. A transport that failed as a whole is skipped for `retryPeriod`,
 * after which sends go back to it — the primary takes over again once it is healthy.
 */
export class FailoverTransport extends RoundRobinTransport {
  constructor(options: FailoverTransportOptions) {
    super(options, 'failover');
  }

  protected override startIndex(): number {
    return 0;
  }
}
