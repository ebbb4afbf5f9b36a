import type { SMTPServerSession } from 'smtp-server';
import type { ParsedMail } from 'mailparser';
import { startAiosmtpd, type AiosmtpdOptions, type FaultRule } from './aiosmtpd-peer.js';
import { onCleanup } from './cleanup.js';
import { startSmtpSink, type InjectedReply, type SmtpSinkOptions } from './smtp-sink.js';

export type { FaultRule } from './aiosmtpd-peer.js';

/**
 * The two SMTP servers the SMTP tests run against: `smtp-server`, from nodemailer's own family,
 * and `aiosmtpd` (Python), which reads the protocol independently of it.
 */
export const PEER_FAMILIES = ['smtp-server', 'aiosmtpd'] as const;
export type PeerFamily = (typeof PEER_FAMILIES)[number];

export type PeerOptions = AiosmtpdOptions;

export interface PeerMail {
  envelope: { from: string; to: string[] };
  raw: Buffer;
  parsed: ParsedMail;
  mailOptions: string[];
  secure: boolean;
  user?: string;
}

export interface SmtpPeer {
  readonly family: PeerFamily;
  readonly port: number;
  readonly received: readonly PeerMail[];
  connections(): number;
  authFailures(): number;
  waitFor(count: number): Promise<readonly PeerMail[]>;
  /**
   * Resolves once what the server saw until now is counted. aiosmtpd reports over a pipe, which
   * may lag behind the SMTP replies; smtp-server records a message before it answers.
   */
  settled(): Promise<void>;
  /** How many copies of the message with this Message-ID the server kept. */
  copies(messageId: string): number;
}

function copiesOf(received: readonly PeerMail[], messageId: string): number {
  return received.filter((m) => m.parsed.messageId === messageId).length;
}

/** The rules as smtp-server hooks; message numbers follow MAIL FROM, as aiosmtpd-peer.py counts them. */
function sinkOptions(options: PeerOptions): SmtpSinkOptions {
  const rules = (options.rules ?? []).map((rule) => ({ ...rule }));
  const numbers = new WeakMap<SMTPServerSession, { message: number; onConnection: number }>();
  let messages = 0;
  const match = (stage: FaultRule['stage'], session: SMTPServerSession, recipient?: string): FaultRule | undefined => {
    const n = numbers.get(session);
    return rules.find((rule) => {
      if (rule.stage !== stage) return false;
      if (rule.recipient !== undefined && rule.recipient !== recipient) return false;
      if (rule.message !== undefined && rule.message !== n?.message) return false;
      if (rule.onConnection !== undefined && rule.onConnection !== n?.onConnection) return false;
      if (rule.times !== undefined) {
        if (rule.times <= 0) return false;
        rule.times -= 1;
      }
      return true;
    });
  };
  const injected = (rule: FaultRule | undefined): InjectedReply | 'drop' | undefined => {
    if (rule?.action === 'drop' || (rule && !rule.reply && !rule.action)) return 'drop';
    if (!rule?.reply || rule.action) return undefined;
    const [, code, message] = /^(\d{3})[ -]?(.*)$/.exec(rule.reply) ?? [];
    return { code: Number(code), message: message ?? '' };
  };
  // A data-stage rule is looked up once per message and its action remembered for the later stages.
  const dataRule = new WeakMap<SMTPServerSession, FaultRule | undefined>();
  const tls = options.tls ?? 'none';
  return {
    secure: tls === 'implicit',
    starttls: tls === 'starttls',
    auth: options.auth,
    mailFrom: (_address, session) => {
      messages += 1;
      const previous = numbers.get(session);
      numbers.set(session, { message: messages, onConnection: (previous?.onConnection ?? 0) + 1 });
      return injected(match('mail', session));
    },
    rcpt: (address, session) => injected(match('rcpt', session, address)),
    data: (_mail, session) => {
      const rule = dataRule.get(session);
      return rule?.reply && !rule.action ? injected(rule) as InjectedReply : undefined;
    },
    drop: (stage, _count, session) => {
      if (stage === 'rcpt') return false;
      if (stage === 'data') dataRule.set(session, match('data', session));
      const action = dataRule.get(session)?.action;
      return (stage === 'data' && action === 'drop')
        || (stage === 'accepted' && action === 'accept-then-drop')
        || (stage === 'answered' && action === 'reply-then-close');
    },
    extra: {
      hidePIPELINING: !options.pipelining,
      hideSMTPUTF8: options.smtputf8 === false,
      hide8BITMIME: options.eightBitMime === false,
    },
  };
}

/** A server of the given family, stopped after the current test. */
export async function startPeer(family: PeerFamily, options: PeerOptions = {}): Promise<SmtpPeer> {
  if (family === 'aiosmtpd') {
    const peer = await startAiosmtpd(options);
    onCleanup(() => peer.stop());
    return {
      family,
      port: peer.port,
      received: peer.received,
      connections: () => peer.connections,
      authFailures: () => peer.authFailures,
      waitFor: (count) => peer.waitFor(count),
      settled: () => peer.sync(),
      copies: (messageId) => copiesOf(peer.received, messageId),
    };
  }
  const sink = await startSmtpSink(sinkOptions(options));
  onCleanup(() => sink.stop());
  return {
    family,
    port: sink.port,
    received: sink.received,
    connections: () => sink.connections.length,
    authFailures: () => sink.authFailures,
    waitFor: (count) => sink.waitFor(count),
    settled: async () => undefined,
    copies: (messageId) => copiesOf(sink.received, messageId),
  };
}
