# A signed-in person's own pages: the start page, account security, the
# password, linking an app, recovery codes, passkeys.

dashboard-title = Dashboard
logged-in-as = Logged in as
nudge-title = Make recovery codes
nudge-text = You have no recovery codes. If your phone is lost or broken, a recovery code is how you log in without it. Make a set now and keep it somewhere safe, away from the phone.
dashboard-stand-in = This page stands in for your clinic's application.
account-security = Account security
practice-administration = Practice administration:
nav-staff = Staff
nav-policy = Policy
nav-audit = Audit trail
log-out = Log out

security-two-factor = Two-factor login
security-phone = Cell phone for text messages:
add-or-change = Add or change
link-app = Link an authenticator app
link-app-aside = (or move it to a new phone)
passkeys-link = Passkeys and security keys
recovery-unused = Unused recovery codes:
recovery-codes-link = Recovery codes
turn-off-summary = Turn two-factor login off
your-password = Your password
code-from-app = A code from your app
turn-off = Turn off
remembered-devices = Remembered devices
no-devices = No device skips the security token.
device = Device
saved = Saved
last-used = Last used
expires = Expires
revoke = Revoke
revoke-all = Revoke all
password-heading = Password
change-password = Change password
back-to-start = Back to the start page
back-to-security = Back to account security
two-factor-on = On: { $factors }.
two-factor-off-status = Off: only your password protects this account.
factor-app = authenticator app ({ $digits }-digit codes)
factor-sms = text message to { $phone }
factor-and = { $first } and { $second }
none = none
never = never

password-help = At least { $count } characters; a long phrase is easier to remember than symbols. Every other session and remembered device will be logged out.
current-password = Current password
new-password = New password
new-password-again = New password again

link-required = Your practice requires two-factor login, and no authenticator app is linked to your account yet: set it up now to continue. It takes a minute.
confirm-before-relink = Confirm it is you before moving two-factor login to a new phone.
confirm-before-link = Confirm it is you before linking an app.
current-code-or-recovery = A code from your current app, or a recovery code
lost-everything = Lost the old phone and every recovery code? Your practice administrator can reset two-factor login.
continue = Continue
scan-title = Scan the QR code
scan-intro = Open your authenticator app (Google Authenticator, Authy, 1Password, FreeOTP…), add an account, and scan this code.
qr-label = QR code for your authenticator app (the same account as the key below)
cant-scan = Can't scan? Enter this key by hand (time-based, 6 digits):
setup-link = Setup link
code-app-shows = The 6-digit code the app shows now
confirm-and-link = Confirm and link
nothing-changes = Nothing changes until you confirm. Leaving this page keeps your account as it was.

codes-title = Your recovery codes
codes-intro = If you lose your phone, each of these codes logs you in once instead of a security token.
codes-shown-once = They are shown only now.
codes-keep = Print them or save them somewhere safe, away from your phone.
download-codes = Download as a text file
print = Print
codes-done = Done: back to account security
codes-new-title = Recovery codes
codes-unused = You have { $count ->
    [one] 1 unused recovery code
   *[other] { $count } unused recovery codes
}. Making a new set makes every old code stop working.
code-from-app-or-recovery = A code from your authenticator app, or a recovery code
not-needed-after-login = Not needed for 5 minutes after you log in.
make-new-set = Make a new set of 10 codes

passkeys-title = Passkeys and security keys
passkeys-intro = A passkey (on your phone or computer) or a security key (a small USB or NFC key) finishes your login without typing a code, and cannot be tricked by a fake login page.
passkeys-must-add = Your practice requires administrators to use a passkey or security key. Add one to finish logging in: your password, and a code from your app or a recovery code if you have one.
no-passkeys = You have no passkey or security key yet.
passkey-name-column = Name
added = Added
synced = Synced
remove = Remove
remove-named = Remove { $name }
code-if-asked = A code from your app (if asked)
add-one = Add one
passkey-name = Name (for example "Office security key")
code-or-recovery-if-asked = A code from your app or a recovery code (if asked)
passkeys-up-to = Up to { $count }. Your browser asks you to choose where to keep it.
add-passkey = Add a passkey or security key
passkey-add-needs-js = Adding a passkey needs JavaScript in this browser. Your other factors keep working.
yes = yes
no = no

phone-title = Cell phone for text messages
current-number = Current number:
phone-code-label = The code in the text message
confirm-number = Confirm this number
phone-used-after-confirm = The new number is used only after you confirm it. Wrong number? Enter it again below.
country = Country
cell-number = Cell phone number
send-code = Send a code to this number
phone-code-sent = A code was sent to { $phone }. Type it below.
phone-cooldown = A text went out moments ago. Wait { $seconds } seconds.
phone-too-many = Too many text messages in the last hour. Try again later.
phone-failed = The text-message service refused to send to this number. Check it, or try another.
phone-delayed = The text-message service is not answering right now. The code to { $phone } will be sent as soon as it is back; type it below when it arrives.
phone-wrong-code = That code is not correct.
phone-code-expired = That code expired or ran out of tries. Enter the number again for a new code.
country-us = United States (+1)
country-ca = Canada (+1)
country-gb = United Kingdom (+44)
country-ie = Ireland (+353)
country-au = Australia (+61)
country-nz = New Zealand (+64)
country-de = Germany (+49)
country-fr = France (+33)
country-es = Spain (+34)
country-mx = Mexico (+52)
country-in = India (+91)
country-ph = Philippines (+63)

passkey-not-confirmed = The change was not confirmed.
passkey-no-such = No such passkey.
passkey-session-ended = Your login session has ended (more than 5 minutes passed, or it was ended). Please log in again.
passkey-locked = This account is locked for { $minutes ->
    [one] 1 minute
   *[other] { $minutes } minutes
} more after too many wrong attempts. Your practice administrator can unlock it sooner.

link-wrong-password = The password is not correct.
link-proof-needed = An app is already linked: enter a code from it, or one of your recovery codes.
link-wrong-proof = That code from your current app or recovery code is not valid.
link-fresh-login-needed = Your phone guards this account: log out, log in again with a texted code, and link the app within 5 minutes.
link-code-mismatch = That code does not match. Check that the app shows this account, and type the code it shows now.
link-too-long = That took too long. Start again.
link-expired = More than 5 minutes passed since you entered your password. Start again; nothing was changed.
recovery-new-set = A new set was made; the old codes no longer work.
emergency-wrong-password = The password is not correct (or password attempts are locked for a while).

passkey-js-no-answer = The server did not answer (%s).
passkey-js-cancelled = The passkey request was cancelled or timed out. Try again.
passkey-js-registered = This passkey or security key is registered already.
passkey-js-failed = The passkey did not work. Try again, or use another way.
passkey-js-refused = The passkey was not accepted.
