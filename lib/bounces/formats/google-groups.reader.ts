import type { BounceFormatReader, Finding } from '../bounce.types.js';
import { failedRecipients } from './text-block.reader.js';

/**
 * Google Groups refusals: a posting to a group that does not exist or does not accept the sender.
 * Written in the sender's language, so it is recognised by its headers and the group address, and
 * reported as 'rejected' (the sender, not the mailbox, is the problem).
 */
export const googleGroupsReader: BounceFormatReader = {
  name: 'google-groups',
  read(mail) {
    if (!/@google(?:mail)?\.com$/.test(mail.from)) return [];
    const failed = failedRecipients(mail).filter((a) => a.endsWith('@googlegroups.com') || /groups\.google\.com/.test(mail.text));
    if (failed.length === 0 || !/groups\.google\.com|google groups/i.test(mail.text)) return [];
    const lines = mail.text.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
    const diagnostic = lines.slice(0, 3).join(' ');
    return failed.map((recipient): Finding => ({ recipient, diagnostic, hint: 'rejected', status: '5.0.0' }));
  },
};
