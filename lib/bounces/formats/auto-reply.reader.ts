import type { BounceFormatReader, Finding, ParsedMail } from '../bounce.types.js';
import { matchReasonText, normalizeDiagnostic } from '../reason.classifier.js';
import { cutOriginal, isSystemAddress, squash } from '../text.helpers.js';
import { BOUNCE_BODY } from './text-block.reader.js';

/**
 * Subjects of automatic replies as mail programs write them, in the languages they ship: Outlook's
 * "Automatic reply:" / "Out of Office:", Exchange and Lotus Notes ("Abwesenheitsnotiz", "Réponse
 * automatique", "Respuesta automática", "Risposta automatica", "Resposta automática", "Automatisch
 * antwoord", "Autosvar", "自動応答", "自动回复", "Автоответ"…). A reply prefix (`Re:`, `AW:`) or a tag
 * in brackets may come first.
 */
const AUTO_SUBJECT = new RegExp(
  String.raw`^(?:(?:re|aw|sv|vs|antw|rif|r|odp|ynt|回复|答复)\s*:\s*|\[[^\]]{0,40}\]\s*)*(?:` + [
    String.raw`auto(?:matic|mated|matische|matique|matica|mática|matico|mático|matisk|maattinen)?[ -]?(?:reply|response|respons|antwort|answer|risposta|respuesta|resposta|réponse|reponse|antwoord|svar|vastaus|odpowied[zź])`,
    String.raw`(?:réponse|reponse|respuesta|risposta|resposta|antwoord|odpowied[zź]|svar|vastaus)\s+automati\w*`,
    String.raw`out[ -]of[ -](?:the[ -])?office`, String.raw`away\b`, String.raw`on vacation`, String.raw`vacation\b`, String.raw`holiday\b`,
    String.raw`abwesenheit`, String.raw`(?:au(?:ss|ß)er|nicht im) (?:haus|büro)`, String.raw`absen(?:ce|t|te|tee|tée)\b`, String.raw`ausente\b`, String.raw`assente\b`,
    String.raw`fuera de la oficina`, String.raw`fuori (?:sede|ufficio)`, String.raw`afwezig`, String.raw`ooo\b`, String.raw`oof\b`,
    '自動応答', '自動返信', '不在', '自动回复', '自動回覆', 'автоответ', 'автоматический ответ', 'отсутств', 'отпуск',
  ].join('|') + ')'
  // Lotus Notes and others put the person's name first: "Kim Lee is out of the office."
  + String.raw`|\b(?:is|am) (?:currently )?out of (?:the )?office\b|\bist (?:au(?:ss|ß)er haus|nicht im büro|abwesend)\b|\best absente?\b|\bestá fuera de la oficina|\b[èe] fuori (?:sede|ufficio)`,
  'i',
);

/**
 * What a person's absence note says, in the same languages: away, out of the office, back on, limited
 * access to e-mail, will answer on return.
 */
const AUTO_BODY = new RegExp([
  String.raw`out of (?:the )?office`, String.raw`away (?:from|until|on)`, String.raw`on (?:vacation|holiday|leave|annual leave|parental leave|sick leave)`,
  String.raw`currently (?:away|out|on leave|unavailable)`, String.raw`limited access to (?:e-?mail|my mail)`, String.raw`upon my return`,
  String.raw`i will (?:be back|return)`, String.raw`i(?:'m| am) (?:away|out)`, String.raw`back (?:in the office )?on`, String.raw`no longer (?:in use|monitored|active)`,
  String.raw`autoreply|auto-reply|automatic reply`, String.raw`travell?ing`, String.raw`intermittent access`, String.raw`respond to your (?:message|e-?mail)`,
  String.raw`thank you for your (?:e-?mail|message)`,
  // German, French, Spanish, Italian, Portuguese, Dutch
  String.raw`nicht im (?:büro|hause)`, String.raw`abwesend`, String.raw`bin (?:ab|bis) `, String.raw`urlaub`, String.raw`wieder (?:im büro|erreichbar|da)`,
  String.raw`absente? du bureau`, String.raw`je suis (?:absente?|en congés?)`, String.raw`de retour le`, String.raw`en congés?`,
  String.raw`fuera de la oficina`, String.raw`estar[ée] (?:de vuelta|fuera|ausente)`, String.raw`vacaciones`, String.raw`ausente`,
  String.raw`fuori (?:sede|ufficio)`, String.raw`sar[òo] assente`, String.raw`rientrer[òo]`, String.raw`ferie`,
  String.raw`fora do escrit[óo]rio`, String.raw`estarei (?:de volta|ausente|fora)`, String.raw`f[ée]rias`,
  String.raw`afwezig`, String.raw`ben (?:weer )?terug`, String.raw`vakantie`,
  // Japanese, Chinese, Russian
  '不在', '休暇', '出張', '休假', '不在办公室', 'отпуск', 'отсутству', 'вернусь',
].join('|'), 'i');

/** Precedence values that automatic answers (and list mail) carry: with absence wording, an auto-reply. */
const AUTO_PRECEDENCE = /^\s*(?:auto[_-]?reply|junk|bulk|list)\b/i;

/**
 * Words of a report that something was not delivered. An automatic reply that says them is read as
 * the failure it describes, not as an absence note.
 */
const FAILURE_WORDS = /undeliver|could not be (?:delivered|sent)|delivery (?:has )?failed|delivery (?:status|failure)|not (?:yet )?(?:been )?delivered|(?:has|have|was|is)n['’]t (?:yet )?(?:been )?delivered|delivery (?:is |has been )?delayed|will (?:continue|keep) (?:trying|to (?:try|be attempted))|(?:user|recipient|mailbox) (?:unknown|not found)|unknown (?:user|recipient)|does not exist|no such (?:user|mailbox)|mailbox (?:is )?full|over quota|^\s*[45]\d\d[ -]\d?/im;

/** What a report of a successful delivery says (Sendmail's return receipt, Exchange's "Delivered:"). */
const SUCCESS_WORDS = /successful(?:ly)? deliver|was delivered to the following|had successful delivery|delivery to (?:the following|these) recipients?(?: or (?:distribution )?lists?)? (?:was successful|succeeded|is complete|has been completed)|has been (?:successfully )?delivered to|(?:erfolgreich )?zugestellt wurde|wurde (?:erfolgreich )?zugestellt|a été (?:remis|délivré|distribué)|ha sido entregado|è stato (?:recapitato|consegnato)|foi entregue com sucesso|is (?:succesvol )?afgeleverd/i;

/** Failure and negation in the report's own sentences, in the languages of SUCCESS_WORDS. */
const NOT_DELIVERED = /\b(?:fail|error|rejected|undeliver|not reach|unavailable|unknown|refused|denied|blocked|quota|not found|no such|invalid|could not|couldn't|unable|expired)|mailbox (?:is )?full|non [èe] stato|no (?:ha sido|se ha podido|pudo)|n'a pas|nicht (?:zugestellt|erreicht)|niet (?:worden )?(?:afgeleverd|bezorgd)|n[ãa]o (?:foi|p[ôo]de)|не (?:был[оа]? )?доставлен|できませんでした|无法|未能/i;

const FAILURE_SUBJECT = /undeliver|fail|\bnot\b|error|returned|warning|delay|problem|non[ -]?remis|unzustellbar|nicht zugestellt|no entregad|non recapitat|n[ãa]o entregue/i;
const SUCCESS_SUBJECT = /deliver|receipt|relayed|success|zugestellt|remis|d[ée]livr|entreg|recapitat|consegnat|afgeleverd|配信|送达|доставлен/i;

/** Does the mail only report deliveries (no failure)? */
export function isSuccessNotice(mail: ParsedMail): boolean {
  // Their subjects say so ("Delivered:", "Relayed:", "Return receipt", "Successful Mail Delivery
  // Report"); the subject is short, the text is read only then.
  if (!SUCCESS_SUBJECT.test(mail.subject) || FAILURE_SUBJECT.test(mail.subject)) return false;
  const text = cutOriginal(mail.text).slice(0, 4000);
  return SUCCESS_WORDS.test(text) && !FAILURE_WORDS.test(text) && !NOT_DELIVERED.test(text);
}

/** A delivery report by its structure: a multipart/report, or one Exchange flags as a non-delivery report. */
function isDeliveryReport(mail: ParsedMail): boolean {
  return mail.reportType === 'delivery-status' || mail.reportType === 'global-delivery-status' || mail.headers.has('x-ms-exchange-message-is-ndr');
}

/** Words of a refusal (a server's reply quoted in a notice), beside FAILURE_WORDS. */
const REFUSAL_WORDS = /\brejected\b|\brefused\b|\bblocked\b|returned to (?:the )?sender|\bsaid:|smtp error|\b[245]\d\d[ -]#?[245]\.\d{1,3}\.\d/i;

/** Is the mail an automatic answer by its headers (RFC 3834 and the older fields of vacation programs)? */
function autoReplyHeader(mail: ParsedMail): boolean {
  const h = mail.headers;
  // Exchange marks its delivery reports Auto-Submitted: auto-replied as well; they are reports.
  if (isDeliveryReport(mail)) return false;
  const auto = (h.get('auto-submitted') ?? '').toLowerCase();
  if (auto.startsWith('auto-replied')) return true;
  if (h.has('x-autoreply') || h.has('x-autorespond') || h.has('x-autoresponder') || h.has('x-autoreply-from') || h.has('x-mail-autoreply')) return true;
  if ((h.get('x-apple-action') ?? '').toUpperCase() === 'VACATION') return true;
  // The Unix vacation program and its descendants name themselves.
  if (/^\s*vacation\b/i.test(h.get('x-mailer') ?? '')) return true;
  return /^\s*auto[_-]?reply\b/i.test(h.get('precedence') ?? '');
}

function isAutoReply(mail: ParsedMail, text: string): boolean {
  if (autoReplyHeader(mail)) return true;
  const subject = mail.subject.trim();
  if (AUTO_SUBJECT.test(subject)) return AUTO_BODY.test(text) || AUTO_PRECEDENCE.test(mail.headers.get('precedence') ?? '') || mail.headers.has('auto-submitted');
  // Older vacation programs mark their answer only as bulk or junk mail.
  return AUTO_PRECEDENCE.test(mail.headers.get('precedence') ?? '') && AUTO_BODY.test(text) && mail.headers.has('in-reply-to');
}

/**
 * Challenge-response filters (TMDA, SpamArrest, Boxbe, Mailinblack, ChoiceMail and the like) hold a
 * message from an unknown sender and ask the sender to prove it is a person: confirm, click a link,
 * reply, or ask to be put on the recipient's list of approved senders. Their wording, in English,
 * French, German and Spanish.
 */
const CHALLENGE_WORDS = new RegExp([
  String.raw`(?:verify|prove|confirm) (?:that )?you(?:'re| are) (?:a )?(?:human|real person|person|not a (?:robot|spammer|machine|computer))`,
  String.raw`(?:confirm|release) (?:your|the) (?:message|e-?mail|mail|identity)\b`, String.raw`verify (?:your|the) (?:message|identity)\b`,
  String.raw`(?:approved|authori[sz]ed|allowed|trusted) senders? list|(?:white ?list|guest list|safe senders? list)`,
  String.raw`(?:add|put) (?:you|yourself|me|your address) (?:to|on) (?:my|the|his|her) (?:white|guest|approved|allowed|safe)`,
  String.raw`(?:held|pending|waiting|quarantined) (?:until|for|pending|awaiting) (?:you )?(?:verification|confirmation|you confirm|your confirmation)`,
  String.raw`(?:only|now) (?:accept|allow|receive)s? (?:e-?mail|mail|messages|delivery) (?:only )?from (?:senders|people|addresses) (?:i|that i|who)`,
  String.raw`confirm (?:that )?you are (?:a )?(?:real )?(?:person|human)`, String.raw`(?:complete|finish) the verification`,
  String.raw`challenge[- ]response`, String.raw`confirmez (?:votre|que vous)`, String.raw`liste blanche`, String.raw`(?:n'êtes|n'etes) pas un robot`,
  String.raw`best[äa]tigen sie (?:ihre|dass)`, String.raw`kein (?:roboter|spammer)`, String.raw`confirme (?:su|que)`, String.raw`lista blanca`,
].join('|'), 'i');

/** Signs of one of those services in the headers or the sender's address. */
const CHALLENGE_SENDER = /spamarrest|boxbe|mailinblack|choicemail|tmda|bluebottle|mailprotector|sendio|spamcease|qurb|earthlink.*spamblocker|challenge/i;

/** The services by name, as their requests mention them. */
const CHALLENGE_SERVICE = /spam ?arrest|boxbe|mail ?in ?black|choice ?mail|\btmda\b|bluebottle|sendio|spamcease|permit ?mail|mailprotector/i;

/** Does the mail ask its recipient (the original sender) to confirm a message before it is delivered? */
export function isChallenge(mail: ParsedMail): boolean {
  // A mail system's report (a refusal by a server that keeps a white list, say) is never one; most
  // reports come from such an address, so this is asked first.
  if (!mail.from || isSystemAddress(mail.from) && !/no-?reply/i.test(mail.from)) return false;
  const h = mail.headers;
  const text = cutOriginal(mail.text).slice(0, 6000);
  if (!CHALLENGE_WORDS.test(text) && !CHALLENGE_WORDS.test(mail.subject)) return false;
  if (FAILURE_WORDS.test(text)) return false;
  if (h.has('x-delivery-agent') && /tmda/i.test(h.get('x-delivery-agent') ?? '')) return true;
  // The service names itself in the sender, the headers or the request's own words.
  if (CHALLENGE_SENDER.test(mail.fromRaw) || CHALLENGE_SENDER.test(h.get('x-mailer') ?? '') || CHALLENGE_SENDER.test(h.get('message-id') ?? '')) return true;
  if (CHALLENGE_SERVICE.test(mail.subject) || CHALLENGE_SERVICE.test(text)) return true;
  // Without a service's name, the mail must be an automatic one, not from a mail system's own address,
  // that does not read as a failure report (whose advice may be to "confirm the message" too).
  if (isSystemAddress(mail.from)) return false;
  const automatic = (h.get('auto-submitted') ?? 'no').toLowerCase() !== 'no' || AUTO_PRECEDENCE.test(h.get('precedence') ?? '') || autoReplyHeader(mail);
  return automatic && !FAILURE_WORDS.test(text) && !BOUNCE_BODY.test(text);
}

/**
 * The mail is an automatic answer that reports no failure: an absence note. Checked before the text
 * readers, whose loose wording (an original subject such as "Problem with order") would otherwise
 * read it as a bounce.
 */
export function isPlainAutoReply(mail: ParsedMail): boolean {
  if (!mail.from || isSystemAddress(mail.from) && !/noreply|no-reply/i.test(mail.from)) return false;
  const text = cutOriginal(mail.text);
  if (!isAutoReply(mail, text)) return false;
  // Providers mark some of their failure notices as automatic replies too: what reads as a report is
  // left to the report readers (and comes back here, after them, if none of them takes it). Only words
  // of a refusal count: an absence note may well say that answers will be "delayed".
  const head = text.slice(0, 4000);
  return !FAILURE_WORDS.test(head) && !REFUSAL_WORDS.test(head);
}

/**
 * RFC 3834 automatic responses (vacation, out-of-office, "this address is no longer in use"). Not a
 * bounce: the message was delivered and a person's or a system's robot answered. Reported with reason
 * 'vacation', or the reason the answer itself states when it says the mailbox is gone.
 */
export const autoReplyReader: BounceFormatReader = {
  name: 'auto-reply',
  read(mail) {
    if (!mail.from || isSystemAddress(mail.from) && !/noreply|no-reply/i.test(mail.from)) return [];
    if (!isAutoReply(mail, mail.text)) return [];
    const text = squash(mail.text).slice(0, 400);
    const said = matchReasonText(normalizeDiagnostic(text));
    // An answer that says the mailbox is closed or gone reports a failure in the robot's words.
    const gone = said === 'suspend' || said === 'userunknown' || said === 'hasmoved';
    const f: Finding = { recipient: mail.from, diagnostic: text, hint: gone ? said : 'vacation' };
    return [f];
  },
};
