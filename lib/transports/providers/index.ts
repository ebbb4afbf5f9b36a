export {
  SendGridTransport,
  SENDGRID_API_URLS,
  type SendGridTransportOptions,
} from './sendgrid/sendgrid.transport.js';
export {
  buildSendGridBody,
  sendGridUnsupportedFeature,
  SENDGRID_LIMITS,
  type SendGridAddress,
  type SendGridAttachment,
  type SendGridMailBody,
  type SendGridPersonalization,
} from './sendgrid/sendgrid.payload.js';
export {
  PostmarkTransport,
  POSTMARK_API_URL,
  POSTMARK_BATCH_MAX_BYTES,
  POSTMARK_BATCH_MAX_MESSAGES,
  type PostmarkTransportOptions,
} from './postmark/postmark.transport.js';
export {
  buildPostmarkMessage,
  parseInactiveRecipients,
  postmarkUnsupportedFeature,
  POSTMARK_MAX_RECIPIENTS_PER_FIELD,
  type PostmarkMessage,
  type PostmarkPayloadOptions,
} from './postmark/postmark.payload.js';
export { SesTransport, type SesTransportOptions } from './ses/ses.transport.js';
export {
  buildSesMime,
  buildSesSendEmailInput,
  sesUnsupportedFeature,
  SES_MAX_RECIPIENTS,
  SES_TAG_VALUE,
  type SesPayloadOptions,
} from './ses/ses.payload.js';
export { importSesSdk, loadSesSdk, SES_SDK_PACKAGE, type SesSendEmailInput } from './ses/ses.sdk.js';
export {
  MailgunTransport,
  MAILGUN_API_URLS,
  type MailgunTransportOptions,
} from './mailgun/mailgun.transport.js';
export {
  buildMailgunFields,
  mailgunUnsupportedFeature,
  toMailgunForm,
  type MailgunField,
} from './mailgun/mailgun.payload.js';
export {
  ResendTransport,
  RESEND_API_URL,
  RESEND_BATCH_MAX,
  type ResendTransportOptions,
} from './resend/resend.transport.js';
export {
  buildResendEmail,
  resendBatchIdempotencyKey,
  resendIdempotencyKey,
  resendUnsupportedFeature,
  RESEND_MAX_TO,
  RESEND_TAG_VALUE,
  type ResendAttachment,
  type ResendEmail,
} from './resend/resend.payload.js';
export {
  parseSendGridWebhook,
  sendGridPublicKey,
  verifySendGridSignature,
  verifySendGridWebhook,
  SENDGRID_SIGNATURE_HEADER,
  SENDGRID_TIMESTAMP_HEADER,
  type SendGridSignatureInput,
  type SendGridWebhookOptions,
} from './sendgrid/sendgrid.webhook.js';
export {
  assertPostmarkCredentials,
  parsePostmarkWebhook,
  verifyPostmarkAuth,
  verifyPostmarkWebhook,
  type PostmarkAuthInput,
  type PostmarkWebhookOptions,
} from './postmark/postmark.webhook.js';
export {
  assertSesWebhookOptions,
  confirmSnsSubscription,
  isSnsCertificateUrl,
  isSnsUrl,
  parseSesNotification,
  parseSesWebhook,
  readSnsMessage,
  snsStringToSign,
  verifySesWebhook,
  verifySnsSignature,
  type SesWebhookOptions,
  type SnsCertificateFetcher,
  type SnsMessage,
  type SnsSubscriptionOutcome,
} from './ses/ses.webhook.js';
export {
  parseMailgunWebhook,
  verifyMailgunSignature,
  verifyMailgunWebhook,
  type MailgunSignatureInput,
  type MailgunWebhookOptions,
} from './mailgun/mailgun.webhook.js';
export {
  parseResendWebhook,
  resendSigningKey,
  verifyResendSignature,
  verifyResendWebhook,
  type ResendSignatureInput,
  type ResendWebhookOptions,
} from './resend/resend.webhook.js';
export type { WebhookSubscriptionOutcome } from './provider.definition.js';
