export { MailTelemetry, SendTelemetry, type FailureLogRecord, type TraceCarrier } from './mail.telemetry.js';
export { ATTR, METRIC_NAMES, SPAN_NAMES, TELEMETRY_SCOPE } from './telemetry.names.js';
export { checkTelemetryOptions, TELEMETRY_OPTION_SHAPE, type MailerTelemetryOptions, type TelemetryRecipients } from './telemetry.options.js';
export { TelemetryPrivacy } from './telemetry.privacy.js';
export { loadOtelApi, OTEL_API_INSTALL } from './otel-api.loader.js';
