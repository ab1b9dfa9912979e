# Why something asked was refused (domain::Reason); nothing was changed.

reason-password-too-short = The password must have at least { $count } characters.
reason-password-too-long = The password must have at most 128 characters.
reason-password-common = That password is one of the most common ones, which attackers try first. Choose another (a few unrelated words work well).
reason-password-has-username = The password must not contain your username.
reason-password-guessable = That password is too easy to guess. Use a few unrelated words; digits, capitals and symbols added to a common word do not help much.
reason-password-guessable-because = That password is too easy to guess: { $why } Use a few unrelated words; digits, capitals and symbols added to a common word do not help much.
reason-passwords-differ = The two passwords differ.
reason-new-passwords-differ = The two new passwords differ.
reason-current-password-wrong = The current password is not correct.
reason-password-wrong = The password is not correct.
reason-proof-needed = Enter a code from your authenticator app or one of your recovery codes (or log out and in again: for 5 minutes after a login none is needed).
reason-proof-wrong = That code from your app or recovery code is not valid.
reason-two-factor-required = Your practice requires two-factor login; it cannot be turned off.
reason-no-authenticator = No authenticator app is linked.
reason-app-code-wrong = That code from your app is not correct.

reason-username-form = The username must be 1 to 64 letters, digits, dots, dashes, underscores, @ or +.
reason-username-api-prefix = Usernames starting with "api." are kept for users created through the API.
reason-username-character = The username contains a character that is not allowed in names.
reason-username-mixed-scripts = The username mixes scripts (for example Latin and Cyrillic letters); write it in one.
reason-username-look-alike = The username imitates a name in plain Latin letters with look-alike characters; type it in plain letters.
reason-username-taken = The username { $name } is taken.

reason-not-admin = Only practice administrators can do this.
reason-admin-password-wrong = Your password is not correct; nothing was changed.
reason-email-invalid = The email address is not valid.
reason-role-invalid = The role must be staff or admin.
reason-display-name-invalid = The name must be at most { $count } characters, on one line.
reason-no-such-account = There is no such account.
reason-not-on-yourself = You cannot do that to your own account; ask another administrator.
reason-already-has-password = { $name } has already set a password; there is no invitation to resend.
reason-passkeys-off-for-admins = Passkeys are not available on this server. Administrators cannot be required to use one.

reason-remember-days-range = Remember-device days must be 0 to { $max }.
reason-idle-timeout-range = The idle timeout must be { $min } to { $max } minutes.
reason-min-length-range = The minimum password length must be { $min } to { $max }.
reason-zone-form = The time zone must be a name such as America/Chicago.
reason-zone-unknown = There is no time zone named "{ $name }": use a name such as America/Chicago or Europe/Madrid.

reason-phone-country = Choose the country of the phone number.
reason-phone-empty = Enter the phone number, e.g. (201) 555-0123.
reason-phone-unreadable = That does not look like a phone number for { $country }.
reason-phone-invalid = That is not a valid phone number for { $country }. Check the digits and the country.

reason-passkeys-off = Passkeys are not available on this server.
reason-ceremony-expired = That took too long, or the page was used twice. Try again.
reason-passkey-not-yours = That passkey is not one registered here for this account.
reason-passkey-cloned = This passkey looks copied (its counter went backwards), so it was refused. Tell your practice administrator.
reason-passkey-cannot-sign-in = This passkey cannot sign in. Use your username and password.
reason-passkey-limit = You have { $count } passkeys already; remove one first.
reason-passkey-duplicate = That passkey is registered already.
reason-passkey-last-for-admin = Your practice requires administrators to use a passkey or security key: add another before removing this one.
reason-passkey-only-factor = This is your only second factor and your practice requires one: link an authenticator app or a cell phone first.
reason-passkey-answer-refused = The passkey's answer was not accepted. Try again, or use another way below.
reason-passkey-name-control = The name may not contain control characters.
reason-passkey-name-long = The name is too long (at most { $count } characters).

reason-app-name = The name must be 1 to 100 printable characters.
reason-app-no-redirect = Give at least one redirect URI (where the application receives its code).
reason-app-too-many-uris = At most { $count } redirect URIs of each kind.
reason-app-unknown = No such application in this practice.
reason-uri-too-long = A redirect URI is at most { $count } bytes.
reason-uri-spaces = "{ $uri }": a redirect URI cannot hold spaces or control characters.
reason-uri-not-absolute = "{ $uri }" is not an absolute URL.
reason-uri-fragment = "{ $uri }": a redirect URI cannot have a #fragment.
reason-uri-credentials = "{ $uri }": a redirect URI cannot hold a user name or password.
reason-uri-plain-http = "{ $uri }": use https (plain http only to localhost).
reason-uri-scheme = "{ $uri }": scheme { $scheme } is not allowed (https, or http to localhost).

guess-straight-rows = straight rows of keys are easy to guess.
guess-keyboard-patterns = short keyboard patterns are easy to guess.
guess-repeats = repeats like "aaa" are easy to guess.
guess-repeated-groups = repeats like "abcabcabc" are only slightly harder to guess than "abc".
guess-top-10 = this is one of the 10 most common passwords.
guess-top-100 = this is one of the 100 most common passwords.
guess-common = this is a very common password.
guess-similar-to-common = this is similar to a commonly used password.
guess-sequences = sequences like abc or 6543 are easy to guess.
guess-recent-years = recent years are easy to guess.
guess-single-word = a word by itself is easy to guess.
guess-dates = dates are often easy to guess.
guess-names = names and surnames by themselves are easy to guess.
guess-common-names = common names and surnames are easy to guess.

reason-oidc-no-client-id = The application did not say who it is (client_id is missing).
reason-oidc-unknown-client = This application is not registered here (unknown client_id).
reason-oidc-no-redirect-uri = The application did not say where to return (redirect_uri is missing).
reason-oidc-redirect-mismatch = The application asked to return to an address it has not registered (redirect_uri does not match).
