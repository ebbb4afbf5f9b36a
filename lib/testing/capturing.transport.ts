import type { OutgoingMail } from '../core/mail.types.js';
import type { TransportResult } from '../core/send-result.types.js';
import type { Transport } from '../core/transport.types.js';
import { FailoverTransport } from '../transports/failover.transport.js';
import { HttpTransport } from '../transports/http/http.transport.js';
import { RoundRobinTransport } from '../transports/roundrobin.transport.js';
import { captureMessage } from './captured-message.builder.js';
import type { MailRecorder } from './mail.recorder.js';
import { simulate } from './failure.simulator.js';

/** What a provider transport checks before it sends anything (protected on HttpTransport). */
interface FeatureCheck {
  checkSupported(mail: OutgoingMail): void;
}

/**
 * Stands in for one configured transport: keeps its name and kind, refuses what the provider
 * could not carry (UnsupportedFeatureError, as it would), builds and records the message instead of
 * sending it, or meets the failure a test queued with `failNext()`. Nothing is opened: the
 * transport it replaces is only closed, at shutdown.
 */
export class CapturingTransport implements Transport {
  readonly name: string;
  readonly kind: string;

  constructor(private readonly original: Transport, private readonly recorder: MailRecorder) {
    this.name = original.name;
    this.kind = original.kind;
  }

  async send(mail: OutgoingMail): Promise<TransportResult> {
    if (this.original instanceof HttpTransport) (this.original as unknown as FeatureCheck).checkSupported(mail);
    const draft = this.recorder.draft(mail, await captureMessage(mail, this.kind), this);
    const failure = this.recorder.takeFailure(draft);
    const result: TransportResult = failure
      ? simulate(failure, this.original, mail)
      : { messageId: mail.messageId, accepted: [...mail.envelope.to], rejected: [], envelope: mail.envelope, response: '250 2.0.0 Ok: captured' };
    this.recorder.hold(mail, draft);
    return result;
  }

  async verify(): Promise<void> {}

  async close(): Promise<void> {
    await this.original.close();
  }
}

/**
 * The capturing stand-in for a transport built from the configuration. A failover or round-robin
 * transport keeps its shape — its members are replaced one by one and keep their names
 * (`default[0]`, `default[1]`) — so a failure queued for one member fails over as it would.
 */
export function captureTransport(transport: Transport, recorder: MailRecorder): Transport {
  if (transport instanceof RoundRobinTransport) {
    const options = {
      name: transport.name,
      transports: transport.transports.map((member) => captureTransport(member, recorder)),
      retryPeriod: transport.retryPeriod,
    };
    return transport instanceof FailoverTransport ? new FailoverTransport(options) : new RoundRobinTransport(options);
  }
  return new CapturingTransport(transport, recorder);
}
