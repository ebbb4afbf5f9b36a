import { classifyProviderError } from '../../bounces/provider-error.classifier.js';
import type { Classification } from '../../core/classification.types.js';
import type { TransportError } from '../../errors/mailer.error.js';

/**
 * The single point where an HTTP transport's failure gets its `Classification`, from the
 * provider-error tables of `lib/bounces/` (status, provider code and message).
 */
export function classifyHttpFailure(error: TransportError): Classification | undefined {
  return classifyProviderError({
    provider: error.provider ?? error.transport,
    statusCode: error.statusCode,
    providerCode: error.providerCode,
    message: error.response,
  });
}

/** The classification of one recipient a provider refused while the rest of the mail went out. */
export function classifyRejectedRecipient(input: {
  provider: string;
  recipient: string;
  statusCode?: number;
  providerCode?: string;
  message?: string;
}): Classification {
  return classifyProviderError(input);
}
