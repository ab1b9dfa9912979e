# Texts and emails sent because of a person's own request, in the language
# of the page they asked from.

sms-code = { $site } security token: { $code }. It expires in { $minutes } minutes. Never share it; staff will not ask for it.
reset-email-subject = { $site }: reset your password
reset-email-asked = Someone asked to reset the password of your { $site } account "{ $name }".
reset-email-asked-html = Someone asked to reset the password of your { $site } account { $name }.
reset-email-open = To choose a new password, open this link within one hour:
reset-email-choose = Choose a new password
reset-email-once = (the link works once, for one hour).
reset-email-not-you = If it was not you, ignore this email: your password stays as it is. Two-factor login stays on either way.

invite-email-subject = { $site }: your invitation
invite-email-invited = { $admin } invited you to { $site } as "{ $name }".
invite-email-invited-html = { $admin } invited you to { $site } as { $name }.
invite-email-open = To choose your password and set up two-factor login, open this link within { $days } days:
invite-email-choose = Choose your password
invite-email-once = (the link works once, for { $days } days).
invite-email-not-you = The link works once. If you did not expect this, ignore this email.
invite-email-not-you-html = If you did not expect this, ignore this email.

emergency-email-subject = { $site }: emergency access used by { $name }
emergency-email-used = { $name } logged in to { $site } with an emergency access link at { $when } from { $ip }: the second factor was skipped once.
emergency-email-check = The reason given when the link was issued is in the audit trail (event emergency_access_issued). If this was not expected, disable the account on the staff page and investigate.
