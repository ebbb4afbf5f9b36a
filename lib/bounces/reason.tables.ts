import type { BounceReason } from '../core/classification.types.js';

/**
 * RFC 3463 enhanced status codes (and the later IANA registry entries) → the reason they name.
 * Keys are "class.subject.detail" without the class digit (`1.1` for 4.1.1 and 5.1.1), except where
 * the transient and permanent forms mean different things; those are listed with the class.
 */
export const STATUS_REASONS: ReadonlyMap<string, BounceReason> = new Map<string, BounceReason>([
  // x.1.x addressing
  ['1.0', 'userunknown'],
  ['1.1', 'userunknown'], // bad destination mailbox address
  ['1.2', 'hostunknown'], // bad destination system address
  ['1.3', 'userunknown'], // bad destination mailbox address syntax
  ['1.4', 'filtered'], // destination mailbox address ambiguous
  ['1.5', 'delivered'], // destination address valid
  ['1.6', 'hasmoved'], // mailbox has moved, no forwarding address
  ['1.7', 'rejected'], // bad sender's mailbox address syntax
  ['1.8', 'rejected'], // bad sender's system address
  ['1.9', 'systemerror'], // message relayed to non-compliant mailer
  ['1.10', 'notaccept'], // recipient address has null MX (RFC 7505)
  // x.2.x mailbox
  ['2.0', 'filtered'],
  ['2.1', 'filtered'], // mailbox disabled, not accepting messages
  ['4.2.1', 'suspend'],
  ['2.2', 'mailboxfull'],
  ['2.3', 'emailtoolarge'], // message length exceeds administrative limit
  ['2.4', 'filtered'], // mailing list expansion problem
  // x.3.x mail system
  ['3.0', 'systemerror'],
  ['3.1', 'systemfull'],
  ['3.2', 'notaccept'], // system not accepting network messages
  ['3.3', 'systemerror'],
  ['3.4', 'emailtoolarge'],
  ['3.5', 'systemerror'],
  // x.4.x network and routing
  ['4.0', 'networkerror'],
  ['4.1', 'expired'], // no answer from host
  ['4.2', 'networkerror'], // bad connection
  ['4.3', 'systemerror'], // directory server failure
  ['4.4', 'hostunknown'], // unable to route
  ['4.4.4', 'networkerror'],
  ['4.5', 'systemfull'], // mail system congestion
  ['4.6', 'networkerror'], // routing loop detected
  ['4.7', 'expired'], // delivery time expired
  ['4.8', 'networkerror'],
  // x.5.x protocol
  ['5.0', 'syntaxerror'],
  ['5.1', 'syntaxerror'],
  ['5.2', 'syntaxerror'],
  ['5.3', 'ratelimited'], // too many recipients
  ['4.5.3', 'systemerror'],
  ['5.4', 'syntaxerror'],
  ['5.5', 'systemerror'],
  ['5.6', 'syntaxerror'],
  // x.6.x content
  ['6.0', 'contenterror'],
  ['6.1', 'contenterror'],
  ['6.2', 'contenterror'],
  ['6.3', 'contenterror'],
  ['6.4', 'contenterror'],
  ['6.5', 'contenterror'],
  ['6.6', 'contenterror'],
  ['6.7', 'contenterror'],
  ['6.8', 'contenterror'],
  ['6.9', 'contenterror'],
  ['6.10', 'contenterror'],
  // x.7.x security and policy
  ['7.0', 'securityerror'],
  ['7.1', 'securityerror'],
  ['4.7.1', 'blocked'],
  ['7.2', 'securityerror'],
  ['4.7.2', 'blocked'],
  ['7.3', 'securityerror'],
  ['7.4', 'securityerror'],
  ['7.5', 'securityerror'],
  ['7.6', 'securityerror'],
  ['7.7', 'securityerror'],
  ['7.8', 'securityerror'], // authentication credentials invalid
  ['7.9', 'securityerror'],
  ['7.10', 'securityerror'],
  ['7.11', 'securityerror'],
  ['7.12', 'securityerror'],
  ['7.13', 'suspend'], // user account disabled
  ['7.14', 'securityerror'],
  ['7.15', 'securityerror'],
  ['7.16', 'emailtoolarge'],
  ['7.17', 'hasmoved'], // mailbox owner has changed
  ['7.18', 'hasmoved'], // domain owner has changed
  ['7.19', 'securityerror'],
  ['7.20', 'authfailure'], // no passing DKIM signature
  ['7.21', 'authfailure'],
  ['7.22', 'authfailure'],
  ['7.23', 'authfailure'], // SPF validation failed
  ['7.24', 'authfailure'], // SPF validation error
  ['7.25', 'requireptr'], // reverse DNS validation failed
  ['7.26', 'authfailure'], // multiple authentication checks failed (DMARC)
  ['7.27', 'notaccept'], // sender address has null MX
  ['7.28', 'spamdetected'], // mail flood
  ['7.29', 'authfailure'], // ARC validation failure
  ['7.30', 'securityerror'], // REQUIRETLS support required
]);

/**
 * Statuses specific enough to decide the reason on their own; for the others the wording of the reply
 * is read first, because servers reuse generic codes (5.1.1, 5.7.1, 5.0.0) for many causes.
 */
export const DECISIVE_STATUS = new Set<BounceReason>([
  'mailboxfull', 'emailtoolarge', 'hasmoved', 'rejected', 'authfailure', 'requireptr', 'delivered',
  'spamdetected', 'systemfull',
]);

/**
 * Wording that names a mailbox that does not exist whatever the SMTP stage: providers' own notices
 * (Gmail's "Address not found … the address couldn't be found", Yahoo's "This user doesn't have a
 * yahoo.com account", which Yahoo sends after DATA) rather than a filter borrowing the words.
 */
export const CERTAINLY_UNKNOWN = /\baddress not found\b.{0,120}\bcouldn't be found|wasn't delivered to \S+ because the address couldn't be found|delivery error: dd this user doesn't have an? \S+ account\b/;

/** Reply-code meaning when neither an enhanced status nor the wording says more (RFC 5321, 7504). */
export const REPLY_CODE_REASONS: ReadonlyMap<number, BounceReason> = new Map<number, BounceReason>([
  [421, 'ratelimited'], // service not available, closing channel: almost always "come back later"
  [422, 'mailboxfull'],
  [431, 'systemfull'],
  [450, 'onhold'],
  [451, 'systemerror'],
  [452, 'systemfull'],
  [454, 'securityerror'], // TLS not available / temporary authentication failure
  [455, 'syntaxerror'],
  [500, 'syntaxerror'],
  [501, 'syntaxerror'],
  [502, 'syntaxerror'],
  [503, 'syntaxerror'],
  [504, 'syntaxerror'],
  [521, 'notaccept'], // host does not accept mail (RFC 7504)
  [523, 'emailtoolarge'],
  [525, 'suspend'], // user account disabled (RFC 4954 dialects)
  [530, 'securityerror'], // authentication required
  [534, 'securityerror'],
  [535, 'securityerror'], // authentication credentials invalid
  [538, 'securityerror'],
  [550, 'rejected'],
  [551, 'hasmoved'], // user not local
  [552, 'mailboxfull'],
  [553, 'userunknown'], // mailbox name not allowed / malformed
  [554, 'rejected'],
  [555, 'syntaxerror'],
  [556, 'notaccept'], // domain does not accept mail (RFC 7504)
]);

/**
 * Wording real servers use, reason by reason, in the order they are tried: the first reason whose
 * pattern matches the lower-cased, whitespace-collapsed reply text wins. Specific causes (full mailbox,
 * size, disabled account) come before the generic "rejected"/"blocked" families they are often
 * wrapped in. Sources: Postfix, Sendmail, Exim, qmail, Exchange/Office 365, Gmail, Yahoo, iCloud,
 * Mail.ru, Orange, Free, GMX, Amazon SES, SendGrid and others as seen in returned mail.
 */
export const REASON_PATTERNS: ReadonlyArray<readonly [BounceReason, string]> = [
  ['mailboxfull', [
    'mailbox (?:is )?full', 'mailbox exceeds', 'mail ?box (?:is )?(?:over|exceeded)', 'full mailbox', 'mailfolder is full',
    'over (?:the )?(?:allowed )?quota', 'over (?:disk )?quota', 'quota (?:exceeded|violation|usage exceeded)',
    // A limit the message (or its size) exceeds is a size limit, not the mailbox's: see emailtoolarge.
    '(?<!\\bmessage |\\bmessage size |\\bmail size |\\bdata )\\bexceed(?:ed|ing|s)? (?:the |their |its |his )?(?:mailbox |storage |disk ?space |disk )?(?:quota|limit)',
    'exceeded storage allocation', 'insufficient (?:disk|system) (?:space|storage)', 'not (?:enough|sufficient) (?:disk |storage )?space',
    'does not have enough space', 'disc quota', 'diskspace quota', 'no space left on device',
    '\\buser(?:disk|domaindisk|\'?s)? (?:space|quota) ', 'space has been used up', 'mailbox size limit exceeded',
    'mail file size exceeds the maximum', 'recipient reached disk quota', 'would exceed (?:the )?maximum allowed storage',
    'too many messages on the server', 'bo[iî]te (?:du destinataire )?pleine', 'mailbox has exceeded',
    'postfach voll', 'casella piena', 'buz[oó]n lleno', 'account disabled temporarly for exceeding receiving limits',
    'quota exceeded', 'domaindisk quota', 'userdisk quota', 'mailbox over quota', 'user over quota', 'is over quota',
    // A message that would take the mailbox over its quota fills the mailbox, whatever its own size.
    'exceed(?:s|ed|ing)? (?:the |their |its |his |her |your |this |user\'?s? |recipient\'?s? |remaining |available |allowed |mailbox |storage |disk )*quota',
    'quota (?:is )?(?:full|reached|exhausted|limit reached)', 'storage (?:quota|limit|space) (?:is )?(?:full|reached|exceeded|exhausted)',
    'mailbox (?:storage )?(?:limit|capacity) (?:reached|exceeded)', 'not enough (?:quota|storage)', 'inbox is full', 'mailbox is at capacity',
    'mailbox (?:size|storage|capacity) (?:limit )?(?:exceeded|reached|full)', 'inbox (?:size|storage|capacity) (?:limit )?(?:exceeded|reached|full)',
    'exceeded (?:the |their |its |his |her )?(?:mailbox|inbox|storage|disk) (?:size )?(?:limit|quota|allocation)',
    'mailbox has reached (?:its|the) (?:limit|quota|capacity|maximum)', 'insufficient storage',
    // Providers' own templates in German, French, Spanish, Italian, Portuguese and Dutch (each keyed by
    // a word of its own; Japanese, Chinese and Russian are in NON_LATIN_REASON_PATTERNS).
    'postfach .{0,40}voll\\b', 'postfach .{0,40}(?:überfüllt|ueberfuellt)', 'speicherplatz.{0,40}(?:erschöpft|überschritten|voll|belegt)', '(?:quota|kontingent|speicherkontingent) (?:ist )?überschritten',
    'bo[iî]te .{0,60}pleine', 'bo[iî]te .{0,60}satur[ée]e', 'quota (?:est )?(?:d[ée]pass[ée]|atteint)', 'espace de stockage .{0,30}(?:plein|satur|insuffisant)',
    'buz[oó]n .{0,40}lleno', 'buz[oó]n .{0,40}saturado', 'cuota .{0,30}excedida', 'cuota .{0,30}superada',
    'casella .{0,40}piena', 'casella .{0,40}satura\\b', 'quota (?:di spazio )?(?:superata|esaurita)', 'spazio (?:su disco )?(?:esaurito|insufficiente)',
    'caixa .{0,40}cheia', 'caixa .{0,40}lotada', '(?:cota|quota) (?:de armazenamento )?excedida',
    '(?:mailbox|postvak|postbus|brievenbus) (?:van de ontvanger )?(?:is )?vol\\b', 'quotum (?:is )?overschreden',
  ].join('|')],
  // "552 Too much mail data" is RFC 5321's own wording for a message over the size limit (§4.5.3.1.10).
  ['emailtoolarge', [
    'message (?:is )?too (?:big|large)', 'message size exceeds', 'message length exceeds', 'message file too big', 'too much mail data',
    'size (?:limit|exceeds)', 'exceed(?:s|ed)? (?:the )?(?:maximum |max )?(?:inbound |allowed )?message size',
    'message exceeds (?:the )?(?:maximum |max |fixed |allowed |permitted )*(?:message )?size', 'message exceeds (?:the |a )?(?:size )?limit\\b', 'size of (?:the |your |this )?(?:e-?mail|message) exceeds',
    'max(?:imum)? message size', 'line limit exceeded', 'message header size exceeds limit', 'taille limite du message',
    'mail size exceeds', 'message exceeds the size limit', 'too large for this ',
  ].join('|')],
  ['suspend', [
    '(?:konto|postfach|benutzerkonto) .{0,30}deaktiviert', '(?:konto|postfach|benutzerkonto) .{0,30}gesperrt', '(?:konto|postfach|benutzerkonto) .{0,30}stillgelegt',
    'compte .{0,30}d[ée]sactiv', 'compte .{0,30}suspendu', 'compte .{0,30}ferm[ée]',
    '(?:cuenta|buz[oó]n) .{0,30}desactivad', '(?:cuenta|buz[oó]n) .{0,30}suspendid', '(?:cuenta|buz[oó]n) .{0,30}deshabilitad',
    '(?:account|casella) .{0,30}disattivat', '(?:account|casella) .{0,30}sospes', '(?:account|casella) .{0,30}disabilitat',
    '(?:conta|caixa) .{0,30}desativad', '(?:conta|caixa) .{0,30}suspens', '(?:conta|caixa) .{0,30}bloquead',
    '(?:account|mailbox|postvak) .{0,30}gedeactiveerd', '(?:account|mailbox|postvak) .{0,30}opgeheven', '(?:account|mailbox|postvak) .{0,30}uitgeschakeld',
    'account (?:is |has been )?(?:closed|deleted|terminated|cancell?ed|removed)',
    '(?:recipient|user|mailbox|address) (?:is |has been )?inactive\\b', '(?:recipient|user|mailbox|address) (?:is |has been )?disabled\\b',
    '(?:recipient|user|mailbox|address) (?:is |has been )?deactivated\\b', '(?:recipient|user|mailbox|address) (?:is |has been )?closed\\b',
    'no longer active', 'is currently suspended', 'has been suspended', 'temporar(?:il)?y? locked', 'archived recipient', 'boite du destinataire archivee',
    'account (?:is |has been )?(?:disabled|deactivated|inactive|locked|frozen|suspended|expired)',
    'mailbox (?:is |has been |currently )?(?:disabled|deactivated|frozen|suspended|inactive)', 'inbox (?:is |has been |currently )?(?:disabled|deactivated|frozen|suspended|inactive)', 'deactivated mailbox',
    'inactive (?:account|user|recipient|e-?mail address|address)', 'disabled recipient', 'invalid/inactive user', 'user (?:is )?terminated', 'user suspended',
    'mailbox unavailable or access denied', 'temporarily inactive', 'recipient suspend', 'disabled or discontinued',
    'no longer accepts mail', 'no longer in use', 'user or domain is disabled', 'account is locked', 'the email account that you tried to reach is disabled',
    'this mailbox is disabled', 'recipient account is blocked', 'account that you tried to reach is (?:inactive|disabled)', 'compte du destinataire est bloqu', 'is disabled\\b',
  ].join('|')],
  ['hasmoved', [' has been replaced by ', 'mailbox has moved', 'address has changed'].join('|')],
  // "Turn on SMTP authentication" refuses relaying for want of credentials: the credentials are the cause.
  ['securityerror', ['turn on smtp authentication', 'smtp authentication is required'].join('|')],
  ['norelaying', [
    '\\brelay(?:ing)? (?:access )?(?:denied|not permitted|not allowed|prohibited)', 'not permitted to relay', 'unable to relay',
    'no relaying', 'as a relay', 'not a gateway', 'not allowed to relay', 'not an open relay', 'not local host',
    'relaying mail to ', 'insecure mail relay', 'mail server requires authentication when attempting to send to a non-local',
    'not configured to relay', 'we do not relay', 'we don\'t handle mail for', 'specified domain is not allowed',
    'isn\'t in my list of allowed rcpthosts', 'email address is not verified\\.',
  ].join('|')],
  ['notcompliantrfc', [
    'not rfc ?5322 compliant', 'duplicate header', 'multiple addresses in from', 'rfcmessagenoncompliant', 'not (?:rfc|rfc ?2822|rfc ?822) compliant', 'multiple (?:from|to|subject|date|message-id) headers',
    'duplicate (?:from|date|message-id|subject) header', 'does not comply with rfc', 'violates rfc ?5322', 'missing (?:a )?(?:date|from|message-id) header',
  ].join('|')],
  ['authfailure', [
    '\\bspf(?: check)?:? (?:fail|softfail|validation)', 'sender policy framework', '\\bspf\\b.{0,40}\\b(?:fail|reject|violation|check)',
    'bad spf records', 'please inspect your spf', 'spf record (?:does not|doesn\'t|not) ', 'not allowed to send (?:mail|from).{0,60}spf', 'per it\'?s spf record',
    'dmarc', '\\bdkim.{0,40}(?:fail|invalid|missing|no valid|not valid|signature)', '(?:fail|invalid|missing|no valid).{0,20}dkim',
    'is not allowed to send mail\\..{0,80}_401', 'authentication checks? (?:did not pass|failed)', 'unauthenticated email',
    'arc validation', 'fails to pass authentication checks', 'does not have authentication information',
  ].join('|')],
  // A domain that does not exist, in providers' own templates (tried before their "does not exist").
  ['hostunknown', [
    'domaine (?:est )?(?:inconnu|inexistant|introuvable)', 'domaine .{0,30}n\'existe pas', 'dominio (?:inexistente|desconocido|inesistente)',
    'dominio .{0,30}(?:no existe|non esiste|n[ãa]o existe)', 'domain (?:existiert nicht|ist unbekannt)', 'dom[äa]ne .{0,30}(?:existiert nicht|unbekannt)',
    'domein .{0,30}(?:bestaat niet|onbekend)',
  ].join('|')],
  ['userunknown', [
    // Providers' own templates: German, French, Spanish, Italian, Portuguese, Dutch, Japanese, Chinese, Russian.
    'empfängername wurde nicht erkannt', 'nom du destinataire n\'(?:est pas|a pas été) reconnu', 'nombre del destinatario no (?:se )?(?:reconoce|ha sido reconocido)',
    'nome del destinatario non [èe] (?:stato )?riconosciuto', 'nome do destinat[áa]rio n[ãa]o (?:foi )?reconhecido', 'naam van de ontvanger (?:is|werd) niet herkend',
    // (A domain's "does not exist" is read as hostunknown above.)
    'existiert nicht', '(?:empfänger|empfaenger|adresse|postfach|benutzer) .{0,40}nicht gefunden', 'unbekannte?r? (?:empfänger|benutzer)', 'kein (?:postfach|benutzer)',
    'n\'existe (?:pas|plus)', 'adresse (?:[ée]lectronique |e-mail |mail )?(?:inconnue|invalide|inexistante)', '(?:destinataire|utilisateur) inexistant',
    'no existe\\b', '(?:usuario|destinatario) desconocid', 'inexistente', '(?:usuario|destinatario|direcci[oó]n|cuenta|buz[oó]n) .{0,40}no encontrad',
    'inesistente', 'sconosciut', 'non esiste', '(?:utente|destinatario|indirizzo|casella) .{0,40}non trovat',
    'n[ãa]o existe', 'desconhecid', '(?:usu[aá]rio|destinat[aá]rio|endere[çc]o|conta|caixa) .{0,40}n[ãa]o encontrad',
    'bestaat niet', 'onbekende (?:gebruiker|ontvanger)', '(?:ontvanger|adres|e-mailadres|gebruiker|mailbox) .{0,40}onbekend', '(?:ontvanger|adres|e-mailadres|gebruiker|mailbox) .{0,40}niet gevonden',
    'no such account', 'addressee unknown', 'receiver (?:not found|unknown)', '(?:mailbox|account) unknown', 'unknown (?:or illegal )?alias', 'illegal alias', 'no longer exists?\\b',
    'not listed in (?:domino directory|public name)', '#?5\\.1\\.0 address rejected', 'invalid final delivery userid', 'address (?:couldn\'t|could not|cannot|can\'t) be found', 'recipient address rejected(?:\\.|$| \\()', '\\buser(?:name)? (?:is )?(?:unknown|not found|not known|not exist|does not exist|doesn\'t exist|not active|missing home)',
    'unknown (?:user|recipient|mailbox|local ?part|e-?mail address|address(?! error))', 'no such (?:user|recipient|mailbox|person|address)',
    '(?:recipient|mailbox|address|addressee|account|e-?mail address|email account) (?:does not|doesn\'t|did not|not) exist',
    '(?:recipient|mailbox|address|user|account) (?:was )?not found', 'invalid (?:recipient|mailbox|address|user)',
    'not a valid (?:user|mailbox|recipient|address)', 'is not a (?:known|valid) (?:user|mailbox)', 'recipient (?:address )?unknown',
    'address (?:unknown|invalid|not present in directory)', 'mailbox (?:invalid|unavailable|not present|unavaiable|is unavailable|is inactive)',
    'bad (?:destination )?(?:mailbox|recipient|address)', 'no mailbox (?:here|by that name|found|available)', 'no account by that name',
    'no (?:such )?(?:one|person) at this address', 'not a local address', 'recipient (?:is )?not (?:local|accepted|ok)',
    'recipient refuses to accept', 'resolver\\.adr\\.recipientnotfound', '\\brecipient ?not ?found', 'badrcptto', 'badrecipientto', 'validrcptto',
    'destination addresses were unknown', 'destination server rejected recipients', 'recipients? (?:was|were) undeliverable',
    'can\'t accept user', 'there is no one at this address', 'address no longer valid', 'wrong or no longer valid', 'no longer valid',
    'is not an active address', 'non-?existent (?:user|recipient|address|mailbox)', 'unknown virtual user', 'in name directory',
    'utilisateur inconnu', 'destinataire (?:inconnu|invalide)', 'invalid recipient', 'nessun utente', 'no existe (?:dicha persona|ese usuario)',
    'unbekannt', 'no valid recipients', 'not our customer', 'user account not found', 'is not a valid mailbox',
    'mailbox .{0,40}does not exist', '> not found', 'that domain or user isn\'t in my list', 'envelope recipient has been denied',
    'account .{0,60} does not exist', 'user .{0,60} does not exist', 'the email account that you tried to reach does not exist',
    'address does not exist', 'does not exist\\.', 'no such local user', 'user doesn\'t have a .{0,30} account', 'recipient address rejected: access denied',
  ].join('|')],
  ['filtered', [
    'only accepting mail from specific', 'bounced address', 'extended inactivity', 'restricted sms e-mail', 'is not accepting any mail',
    'rejected due to user rules', 'not found recipient account', 'recipient preferences', 'resolver\\.rst\\.notauthorized',
    'this account is protected by', 'refuses? to receive', 'user reject', 'blocked by the recipient', 'recipient (?:has )?blocked',
    'refuse to receive mail', 'not authorized to (?:send to|deliver to) this recipient', 'filtered by recipient', 'message filtered',
  ].join('|')],
  ['requireptr', [
    'ptr record', 'reverse dns', 'rdns', 'reverse lookup', 'ip name lookup failed', 'cannot find your hostname', 'can\'t find your hostname',
    'reverse (?:address|mapping|resolution)', 'unresolvable relay host name', 'generic dns ptr', 'forward dns entry does not point to the sending ip',
    'mismatches client ip', 'unverifyable sending ips', 'unverifiable sending ip', 'dns lookup failure: .{0,60}try again later',
    'hostname does not resolve', 'client host rejected: cannot find', 'not resolve your (?:host|ip)', 'no reverse',
  ].join('|')],
  ['badreputation', [
    'poor (?:email )?reputation', 'rate limited due to ip reputation', '(?:ip|domain|sender)(?:/domain)? reputation', 'low reputation', 'bad reputation',
    'unexpected volume or user complaints', 'reputation (?:is too low|problems)',
  ].join('|')],
  ['rejected', [
    'sender (?:address |email address |ip address )?(?:rejected|was rejected|is in my black list|is spammer|not pre-approved|verify failed|blacklisted|has been blacklisted)',
    '(?<!recipient )address rejected(?!: (?:user unknown|unknown user|invalid user|unknown domain))', 'not a member of (?:this|the) (?:mailing )?list', 'permission to post', 'administrative prohibition', 'batv', 'backscatter',
    'on the recipient\'s list of senders', 'bogus mail from', 'responsible address', 'without a valid sender domain', 'bouncedeny',
    'valid-address-filter', 'delivery not authorized', 'domain of sender address', 'senderfilterconfig', 'emetteur invalide',
    'empty envelope sender', 'envelope blocked', 'no third-party dsns', 'from: domain is invalid', 'fully qualified email address required',
    'invalid domain, see', 'invalid sender', 'registered gateway user', 'mail from not owned by user', 'mx records for ',
    'null sender is not allowed', 'returned mail not accepted here', 'recursive cname', 'rule imposed mailbox access',
    'sending this from a different address or alias', 'sender domain is empty', 'spam reporting address', 'empty email address',
    'does not accept mail from', 'unsigned dsn', 'unroutable sender', 'not allowed to post to this mailing list', 'address that has been blacklisted',
    'email address has been blacklisted', 'sender (?:domain )?(?:does not exist|not (?:found|allowed)|unknown)', 'invalid mail from',
    'domain (?:of|for) (?:the )?sender', 'unverified sender', 'sender address', 'rejected by (?:the )?destination (?:domain|server)',
    'mail ?from domain (?:is )?listed', 'only (?:subscribers|members) (?:may|can|are allowed to) post',
  ].join('|')],
  ['hostunknown', [
    'domain (?:does not exist|is not reachable|must exist|not found|name not found|unknown)', 'host or domain name not found', 'host unknown',
    'unknown host', 'host unreachable', 'mail domain mentioned in email address is unknown', 'name or service not known', 'no such domain',
    'unknown domain', 'recipient domain must exist', 'account or domain may not exist', 'unrout(?:e)?able (?:address|domain|mail domain)',
    'dns (?:error|failure).{0,40}(?:nxdomain|domain name not found|no such)', '553 .{0,80} does not exist',
    'dns lookup failure: host .{0,80} not found', 'domain name (?:does not exist|not found|unknown)', 'non-?existent domain', '\\bnxdomain\\b',
    '\\bhost not found(?!, try again)',
  ].join('|')],
  ['spamdetected', [
    '\\bspam\\b', 'mail rejete', 'unsolicited', 'bulk (?:e-?mail|mail|advertising)', 'spamassassin', 'content filter rejection', 'mail content denied',
    'message content rejected', 'rejected because of unacceptable content', 'rejecting (?:banned|mail) content',
    'recurrent pattern detection', 'uribl', 'blacklisted url', 'probability of being', 'message looks like', 'mailmarshal spamprofiler',
    'trustwave seg', 'cyberoam anti spam', 'drbl', 'greylisted.{0,40}please try again', 'appears to be unsolicited', '554 5\\.7\\.0 reject, id=',
    'message rejected for policy reasons', 'temporarily blocked by our filter', 'antispam', 'anti-spam', 'junk mail', 'spam-like',
    'detected as (?:spam|bulk)', 'spamprofiler', 'phishing', 'rejected due to spam classification',
  ].join('|')],
  ['ratelimited', [
    'rate limit', 'frequency limited', 'rate-limit', 'ratelimit', 'too many (?:connections|concurrent|smtp sessions|messages|mails|errors|recipients|emails|sessions)',
    'please try again slower', 'at a rate that prevents', 'throttl', 'exceeds per-domain connection limit', 'max emails per hour',
    'maximum connection limit', 'trop de connexions', 'sending rate exceeded', 'daily (?:message |sending )?quota', 'message quota exceeded',
    'numerous attempts to deliver', 'slow down', 'too fast', 'sending too much', 'limit exceeded for', 'connection limit',
    'temporarily rate limited', 'exceeded the max', 'too many (?:requests|attempts|deliveries|invalid)', 'try again later.{0,20}limit', 'receiving mail at a rate',
  ].join('|')],
  ['virusdetected', [
    'virus', 'malware', 'potentially executable attachment', 'infected', 'malicious',
  ].join('|')],
  ['policyviolation', [
    'illegal attachment', 'not accepting mail with ', 'members-only list', 'closed mailing list', 'denied by policy', 'policy reasons',
    'security policies', 'header are not accepted', 'local policy', 'organizational settings', 'low priority',
    'protocol violation', 'not subscribed to this group', 'organization policy', 'content presents a potential',
    'images or other attachments', 'mass mailer', 'allowable number of posts', 'policy violation', '\\bviolates? (?:our |the )?policy',
    'prohibited (?:attachment|file)', '\\battachment.{0,80}(?:not allowed|prohibited|blocked|forbidden)', 'by policy',
    'file (?:type|extension)s? .{0,40}(?:not allowed|blocked|prohibited|forbidden)', 'blocked (?:file|attachment) (?:type|extension)',
    '(?:not allowed|blocked|forbidden) by (?:the )?(?:mail |e-?mail |content |attachment )?policy',
  ].join('|')],
  ['blocked', [
    'blocked using', 'my name was rejected', 'blocked - see', 'blocked by (?!the recipient)', 'blacklisted by', '\\bblack ?list', 'blocklist', 'block list', 'spamcop',
    'spamhaus', 'barracudacentral', 'abuseat', 'dnsbl', '\\brbl\\b', 'bad sender ip', 'banned sending ip', 'client host rejected',
    'helo command rejected', 'confirm this mail server', 'connection (?:dropped|was dropped|not accepted)', 'go away',
    'dynamic ip', 'dynamic/zombied', 'host network not allowed', 'invalid ip for sending', 'not allowed to send mail from',
    'no access from mail server', 'not currently accepting mail from your ip', 'use the smtp server of your isp', 'refused - see',
    'open proxy', 'sender ip address rejected', 'forbidden by your ip', 'service not available, closing transmission channel',
    'smtp error from remote mail server after initial connection', 'looks suspiciously like spammer', 'refused to talk to me',
    'not allowed to connect', 'you are sending spam', 'listed (?:in|on|at) (?:the )?(?:spamhaus|spamcop|rbl|dnsbl|black|block|a black|an rbl)', 'is listed on', 'your ip', 'ip address (?:is )?(?:blocked|listed|rejected|has been)',
    'not accepting connections', 'esmtp not accepting', 'temporarily deferred due to', 'too many unwanted messages', 'extreme bad ip',
    'currently sending spam', 'was blocked by', 'ip .{0,60} is blocked', 'connections not accepted', 'your server requires confirmation',
    'no matches to nameserver query', 'mail from .{0,80} refused', 'ip .{0,40} blocked', 'has been blocked', 'service refused, please try later',
  ].join('|')],
  // A bare "access denied" names the sender only when nothing more specific (a block list) was said.
  ['rejected', ['access denied'].join('|')],
  ['notaccept', [
    'does not accept mail', 'no smtp service', 'no mx found', 'couldn\'t find a mail exchanger', 'nullmx', 'null mx', 'mail receiving disabled', 'name server: \\.: host not found', 'no mx record found',
    'no route for current request', 'smtp protocol returned a permanent error', 'not accepting (?:any )?(?:mail|messages)',
  ].join('|')],
  // A connection to the next hop that was refused, timed out, reset or lost is the network failing, not
  // the sender blocked (a block comes as an SMTP reply that says so); a report that gave the message up
  // after it calls it expired (see the parser).
  ['networkerror', [
    'could not connect and send', 'network error', 'dns error', 'wasn\'t able to establish an smtp connection', 'dns records for the destination', 'hop count exceeded', 'host is unreachable', 'host name lookup failure',
    'host not found, try again', 'forwarding loop', 'name server reply', 'message looping', 'routing loop', 'no route to host',
    'too many hops', 'unable to resolve route', 'unrouteable mail domain', 'network (?:is )?unreachable', 'connection refused',
    'connection reset', 'connection timed out', 'timed out while connecting', 'operation timed out',
    'lost connection', 'dns (?:lookup|resolution|query) (?:failed|error)', 'temporary dns', 'name service error',
  ].join('|')],
  ['expired', [
    'could not find a gateway', 'did not accept our requests to connect', 'delivery failed \\d+ attempts', 'envelope expired', 'host not reachable', 'delivery attempts will continue', 'delivery (?:time )?expired', 'expired after',
    'failed to deliver to domain ', 'giving up', 'failing for a long time', 'has been delayed', 'not been collected after', 'message expired',
    'message timed out', 'retry time not reached', 'server did not respond', 'in the queue too long', 'after multiple retries',
    'within the allowed queue period', 'could not be delivered for', 'retry timeout exceeded', 'queue(?:d)? too long', 'too long in queue',
    'maximum time', 'time limit', 'could not be delivered within', 'action: delayed', 'not (?:been )?delivered within \\d',
    // Sendmail's delay warning: "Warning: message still undelivered after 4 hours".
    'still undelivered after', 'will keep trying until message is',
  ].join('|')],
  ['systemerror', [
    'aliasing/forwarding loop', 'can\'t create user output', 'could not load drd', 'internal error', 'internal server error',
    'interrupted system call', 'error while being processed', 'would create a mail loop', 'local configuration error', 'local error in processing',
    'loop was found', 'loops back to myself', 'configuration error', 'queue file write error', 'no mdb', 'misconfigured',
    'service (?:currently )?unavailable', 'system config error', 'temporary local problem', 'timeout waiting for input', 'transaction failed\\b',
    'temporary (?:server |system )(?:error|failure|problem)', 'temporary (?:error|problem)', 'server error', 'system error', 'mail loop', 'operating system error',
  ].join('|')],
  ['contenterror', [
    'header error', 'header size exceeds', '8-bit data in message header', 'mime complexity', 'too many received', 'invalid mime',
    'improperly-formatted binary', 'unnecessary base64', 'content error', 'malformed (?:mime|message|header)', 'message header size',
  ].join('|')],
  ['systemfull', ['mail system full', 'system (?:is )?full', 'storage full', 'insufficient system resources'].join('|')],
  ['failedstarttls', ['does not support tls', 'starttls (?:failed|failure|negotiation)', 'tls (?:handshake|negotiation) failed', 'mta-sts', '\\bdane\\b'].join('|')],
  ['securityerror', [
    'account not subscribed to ses', 'authentication (?:credentials invalid|failure|failed|required|unsuccessful)', 'authentication turned on',
    'executable files are not allowed', 'access denied', 'you don\'t authenticate', 'starttls is required', 'tls required', 'must issue a starttls',
    'unauthenticated senders', 'verification failure', 'not authorized to send', 'is a dead domain', 'not authorized to perform ses',
    'authentification (?:invalide|requise)', 'must be authenticated', 'encryption required', '\\bauth(?:entication)? (?:is )?required',
  ].join('|')],
  ['syntaxerror', ['malformed (?:recipient )?address: ', 'incorrectly constructed'].join('|')],
  ['mailererror', [
    '\\|\\| exit ', 'procmail', 'maildrop', 'command failed: ', 'command died with status', 'command output:', 'mailer error',
    'pipe to \\|', 'x-unix;', 'local delivery failed', 'unknown mailer error',
  ].join('|')],
  ['vacation', ['i am away', 'out of (?:the )?office', 'i will be traveling', 'on vacation', '\\bauto(?:matic)?[- ]?reply'].join('|')],
];

/**
 * Providers' own wording in Japanese, Chinese and Russian. None of it has a word of the Latin alphabet
 * for the matcher's index to file it under, so it is a table of its own, read only for texts that hold
 * such characters (decideReason), before REASON_PATTERNS; the same order of reasons.
 */
export const NON_LATIN_REASON_PATTERNS: ReadonlyArray<readonly [BounceReason, string]> = [
  ['mailboxfull', [
    'メールボックス.{0,10}(?:一杯|いっぱい|満杯|容量)', '容量.{0,6}(?:超過|超え|オーバー|一杯|いっぱい|不足)',
    '(?:邮箱|信箱|郵箱|邮件箱).{0,10}(?:已满|满了|已滿|空间不足|容量不足|超出)', '空间已满', '超过.{0,6}(?:容量|配额)',
    '(?:ящик|почтовый ящик).{0,30}переполнен', 'превышен.{0,20}(?:квот|лимит|размер)', 'переполнен',
  ].join('|')],
  ['suspend', [
    'アカウント.{0,20}(?:停止|無効)', '(?:帐户|账户|账号|邮箱).{0,10}(?:已停用|已冻结|被冻结|已禁用|已注销)',
    '(?:ящик|аккаунт|учетная запись|учётная запись).{0,30}(?:заблокирован|отключен|удал[её]н)',
  ].join('|')],
  ['hostunknown', [
    'ドメイン.{0,20}(?:存在しません|見つかりません)', '域名.{0,10}(?:不存在|无效|无法解析)', 'домен.{0,30}(?:не существует|не найден)',
  ].join('|')],
  ['userunknown', [
    '(?:宛先|アドレス|ユーザ|アカウント).{0,20}(?:存在しません|見つかりません|ありません)', 'ユーザー?が(?:存在しない|見つからない)',
    '(?:收件人|用户|地址|邮箱|帐户|账户|账号|帳號).{0,10}(?:不存在|无效|未找到)',
    '(?:адресат|получатель|пользователь|ящик|адрес|аккаунт|ящика).{0,40}(?:не найден|не существует|неизвестен)', 'не существует', 'нет такого (?:пользователя|ящика|адресата)',
  ].join('|')],
];
