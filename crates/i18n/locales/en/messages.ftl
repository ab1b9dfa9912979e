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
