// `nestjs-mailroom/testing`: test an application's mail in its own test suite. Import
// MailerTestingModule next to the application's module; every MailerModule transport then captures
// into the Mailbox, which has the assertions. Production code never imports this entry point. Every
// name here is public API; see the main entry point's note.

export { MailerTestingModule } from './mailer-testing.module.js';
export { Mailbox } from './mailbox.service.js';
export type {
  CapturedAttachment,
  CapturedMail,
  MailMatch,
  MailMatcher,
  TextPattern,
  WaitForOptions,
} from './captured-mail.types.js';
export type { SimulatedFailure, SimulatedProviderError, SimulatedSmtpReply } from './failure.simulator.js';
