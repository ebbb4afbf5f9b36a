/**
 * Has delivery ended? A report says so per recipient in its RFC 3464 Action field, or, when it has
 * none (plain-text notices), in its wording. The status and the reason only say why: Postfix keeps the
 * last temporary status (`4.4.1`) when it gives a message up, and a delay warning may quote a
 * permanent-looking code of an earlier attempt.
 */
export type ReportOutcome = 'final' | 'warning' | 'success';

/**
 * RFC 3464 §2.3.3: `failed` — the MTA gave up; `delayed` — it is still trying; `delivered`, `relayed`
 * and `expanded` — it passed the message on. SendGrid writes `expired` for a message it gave up on at
 * the end of its retries. Anything else (a typo, another private value) says nothing.
 */
export function outcomeOfAction(action: string | undefined): ReportOutcome | undefined {
  switch (action) {
    case 'failed':
    case 'expired':
      return 'final';
    case 'delayed':
      return 'warning';
    case 'delivered':
    case 'relayed':
    case 'expanded':
      return 'success';
    default:
      return undefined;
  }
}

/**
 * What the MTAs write in a delay warning, in their subject or above the returned message: Postfix's
 * "Delayed Mail (still being retried)" and "THIS IS A WARNING ONLY … It will be retried until …",
 * Sendmail's "Warning: could not send message for past 4 hours", "message still undelivered after",
 * "Will keep trying until message is 5 days old", Exim's "Warning: message … delayed 24 hours",
 * "has not yet been delivered", "No action is required on your part. Delivery attempts will continue",
 * Exchange's "Delivery delayed:", "Delivery is delayed to these recipients", "hasn't been delivered
 * yet", Gmail's "(Delay)", "will retry for 46 more hours", "Message will be retried for 2 more day(s)",
 * OpenSMTPD's "only a temporary failure report", the "delayed delivery notice" of qmail set-ups that
 * warn ("has been undeliverable to the following recipients for at least …", "will continue to
 * attempt"), and RFC 3464's own "Action: delayed" when an MTA writes its fields into the text.
 */
const WARNING_WORDS = new RegExp([
  'this is a warning', 'you do not need to re-?send', 'no action is required on your part',
  'ha(?:s|ve) not (?:yet )?been delivered yet', '(?:has|have) not yet been delivered', "(?:hasn't|haven't) been delivered yet",
  'not yet delivered', 'delivery (?:attempts )?will continue', 'will continue to (?:be )?(?:attempt|retr|tr)',
  'will (?:keep|continue) trying', 'will be retried (?:for|until)', 'still being retried', 'will retry (?:for|until|again)',
  'still undelivered after', 'only a temporary failure', 'temporary failure report',
  'delivery (?:to the following recipients? )?(?:has been|is|was) delayed', 'delivery (?:is )?delayed to',
  'message (?:is|has been|was) delayed', 'could not send message for past', 'delay(?:ed)? (?:delivery )?notification',
  "you(?:'ll| will) be notified if", 'delivery incomplete', 'temporary problem delivering', 'action: delayed',
  'delayed delivery notice', 'undeliverable to the following recipients for at least',
].join('|'));

const WARNING_SUBJECT = /^(?:warning|delayed mail|delivery delayed|delay(?:ed)? (?:delivery )?notice|delay(?:ed)? notification)\b|\(delay\)|\bdelayed \d+ (?:hours?|minutes?|days?)\b|still being retried|not yet delivered/;

/**
 * What they write when they have given up: qmail's "I'm not going to try again", Exim's "This is a
 * permanent error" and "retry timeout exceeded", Sendmail's "permanent fatal errors", "Message will be
 * deleted from queue" and "Cannot send message for 5 days", Gmail's "failed permanently", Exchange's
 * "Delivery has failed to these recipients" and "has stopped trying", and "gave up" / "giving up" in
 * any of them. Exim's warning
 * says the software "will give up" one day: the future tense is no verdict.
 */
const FINAL_WORDS = new RegExp([
  'not going to try again', 'gave up', 'given up', 'giving up', 'failed permanently', 'permanent(?:ly)? (?:fatal )?(?:error|failure)',
  'retry timeout exceeded', 'deleted from (?:the )?queue', 'in the queue too long', 'cannot send message for \\d',
  'delivery has failed to', 'could not be delivered to one or more', 'message expired', 'stopped trying',
  'action: failed',
].join('|'));

/**
 * The outcome a report's wording states for all the recipients it names: its subject and its own text
 * (without the returned message, which may quote anything). A report that both warns and gives up
 * (one recipient delayed, another failed, and no Action field to tell them apart) counts as final.
 */
export function outcomeOfWording(subject: string, text: string): 'final' | 'warning' | undefined {
  const s = subject.toLowerCase();
  const t = text.length > 20000 ? text.slice(0, 20000).toLowerCase() : text.toLowerCase();
  const flat = /\s\s|\n/.test(t) ? t.replace(/\s+/g, ' ') : t;
  if (FINAL_WORDS.test(flat) || FINAL_WORDS.test(s)) return 'final';
  if (WARNING_SUBJECT.test(s) || WARNING_WORDS.test(flat)) return 'warning';
  return undefined;
}

/**
 * The words of an MTA that could not open a session with the next hop at all (the connection refused,
 * or nothing answered, not even a greeting): at the end of the queue lifetime that is a message that
 * expired, while it is still being retried it is a network error.
 */
export const CONNECT_FAILED = /\bconnection (?:refused|timed out)|\btimed out while (?:connecting|receiving the initial server greeting)|\bconnect(?:ion)? to \S+ (?:failed|refused)|\boperation timed out|\bno answer from\b/;

/**
 * An MTA's own words that the message ran out of time, whatever reply code it wraps them in, or
 * whatever Action it writes: OpenSMTPD 6.8 reports an envelope it drops at the end of its queue
 * lifetime with `Action: delayed` ("A message is delayed for more than 0 seconds … Envelope expired").
 */
export const RAN_OUT_OF_TIME = /\benvelope expired|\bmessage expired|\bexpired after|retry timeout exceeded|\bgave up|\bgiving up|not going to try again|in the queue too long|too long in (?:the )?queue/;
