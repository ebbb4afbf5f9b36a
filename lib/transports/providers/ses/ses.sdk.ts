import { MailerConfigurationError } from '../../../errors/mailer.error.js';

/**
 * The few parts of `@aws-sdk/client-sesv2` this transport uses, typed here so that the package
 * stays an optional peer: it is loaded on first use, and the build does not need it installed.
 */
export interface SesClientConfig {
  region?: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  maxAttempts?: number;
}

export interface SesSendEmailInput {
  FromEmailAddress?: string;
  Destination?: { ToAddresses?: string[]; CcAddresses?: string[]; BccAddresses?: string[] };
  ReplyToAddresses?: string[];
  FeedbackForwardingEmailAddress?: string;
  Content: { Raw: { Data: Uint8Array } };
  EmailTags?: Array<{ Name: string; Value: string }>;
  ConfigurationSetName?: string;
}

export interface SesCommand {
  readonly input: object;
}

export interface SesClient {
  send(command: SesCommand, options?: { abortSignal?: AbortSignal }): Promise<Record<string, unknown>>;
  destroy(): void;
}

export interface SesSdk {
  SESv2Client: new (config: SesClientConfig) => SesClient;
  SendEmailCommand: new (input: SesSendEmailInput) => SesCommand;
  GetAccountCommand: new (input: Record<string, never>) => SesCommand;
}

export const SES_SDK_PACKAGE = '@aws-sdk/client-sesv2';

let loading: Promise<SesSdk> | undefined;

/** Loads the AWS SDK once; a missing package is a configuration error that says how to install it. */
export function loadSesSdk(): Promise<SesSdk> {
  loading ??= importSesSdk(SES_SDK_PACKAGE).catch((error: unknown) => {
    loading = undefined;
    throw error;
  });
  return loading;
}

/** Imports the SDK from `specifier` (the package name, unless a test points elsewhere). */
export async function importSesSdk(specifier: string): Promise<SesSdk> {
  try {
    // A non-literal specifier keeps TypeScript and bundlers from requiring the optional peer.
    return (await import(specifier)) as SesSdk;
  } catch (cause) {
    const code = (cause as { code?: unknown }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || /Cannot find (module|package)|Failed to load url/.test(String(cause))) {
      throw new MailerConfigurationError(`The ses transport needs the AWS SDK: run \`npm install ${SES_SDK_PACKAGE}\`.`, { cause });
    }
    throw cause;
  }
}
