import type { BounceFormatReader } from '../bounce.types.js';
import { googleGroupsReader } from './google-groups.reader.js';
import { listManagerReader } from './list-manager.reader.js';
import { postfixNoticeReader } from './postfix-notice.reader.js';
import { sesNotificationReader } from './ses-notification.reader.js';
import { textBlockReader } from './text-block.reader.js';

/**
 * Format readers, tried in order after the delivery-status part (if any) has been read. The first that
 * recognises the mail wins; its findings are merged with the delivery-status ones by recipient.
 */
export const FORMAT_READERS: readonly BounceFormatReader[] = [
  sesNotificationReader, googleGroupsReader, postfixNoticeReader, listManagerReader, textBlockReader,
];
