# The login flow: log in, the second factor, recovery codes, "Forgot
# password?". Texts the contract quotes ("Log In", "Forgot password?",
# "Two-Factor Login", "Request Token via SMS", "Save token for 30 days.
# (Not on public computers!)") stay exactly as written.

language-switch = Language
log-in = Log In
forgot-password = Forgot password?
username = Username
password = Password
passkey-sign-in = Sign in with a passkey
wrong-password = The username or password is not correct. Check both and try again.
password-throttled = Too many failed attempts. Try again in { $minutes ->
    [one] 1 minute
   *[other] { $minutes } minutes
}, or ask your practice administrator to unlock your account.

two-factor-title = Two-Factor Login
two-factor-passkey-only = Your practice requires administrators to finish logging in with a passkey or security key. Codes from an app, a text message or a recovery sheet are not accepted for your account.
two-factor-intro-app-sms = Enter your security token from your authenticator app on your mobile phone. You can also request a security token via text message.
two-factor-intro-app = Enter your security token from your authenticator app on your mobile phone.
two-factor-intro-sms = Press “Request Token via SMS” and a security token is texted to { $phone }. Then enter it here.
two-factor-intro-passkey = Finish logging in with your passkey or security key.
two-factor-intro-recovery = Finish logging in with one of your recovery codes.
use-passkey = Use your passkey or security key
passkey-needs-js = Passkeys need JavaScript in this browser; the other ways below still work.
passkey-unsupported = This browser cannot use passkeys; the other ways below still work.
passkey-needs-js-only = Passkeys need JavaScript in this browser: turn it on to finish logging in.
passkey-unsupported-only = This browser cannot use passkeys: use one that can, or ask another administrator for help.
security-token = Security token
request-sms = Request Token via SMS
token-help-app-sms = { $digits } digits from your app, or the 6 digits of the text message. Spaces are ignored.
token-help-app = { $digits } digits from your app. Spaces are ignored.
token-help-sms = The 6 digits of the text message. Spaces are ignored.
remember-token = Save token for { $days } days. (Not on public computers!)
use-recovery = Lost your phone? Use a recovery code
recovery-left = ({ $count } left)
no-recovery = Lost your phone? Your practice administrator can reset your two-factor login so that you can link a new one.

token-reused = That code was already used. Wait for the next code in your app and enter it.
token-empty = Enter the security token from your app.
token-wrong = That security token is not correct.
clock-behind = Your phone's clock looks about { $minutes ->
    [one] 1 minute
   *[other] { $minutes } minutes
} behind. Turn on automatic date and time in your phone's settings, then try the new code.
attempts-left = { $count ->
    [one] 1 attempt left.
   *[other] { $count } attempts left.
}
too-many-wrong = Too many wrong codes ended this login. Log in again with your password, then enter the code your app or text message shows now.
login-expired = This login ended: a code must be entered within { $minutes ->
    [one] 1 minute
   *[other] { $minutes } minutes
} of the password. Please log in again.
login-ended = Your login session has ended. Please log in again.
locked-tokens = Too many wrong security tokens: two-factor login for this account is locked for { $minutes ->
    [one] 1 minute
   *[other] { $minutes } minutes
}. Your practice administrator can unlock it sooner.
locked-codes = Too many wrong codes: two-factor login for this account is locked for { $minutes ->
    [one] 1 minute
   *[other] { $minutes } minutes
}. Your practice administrator can unlock it sooner.
passkey-required = Only a passkey or security key can finish this login.

sms-cooldown = A text message was sent moments ago. Wait { $seconds } seconds before asking for another.
sms-too-many = Too many text messages in the last hour. Use your authenticator app, or try again later.
sms-no-phone = No phone number is linked to your account. Use your authenticator app.
sms-forbidden = Your practice does not allow security tokens by text message. Use your authenticator app or a recovery code.
sms-rejected = The text-message service refused to send to { $phone }. Use your authenticator app or a recovery code, and ask your practice administrator to check the number.
sms-delayed = The text-message service is not answering right now. Your token to { $phone } will be sent as soon as it is back, so it may arrive late. You can also use your authenticator app, or ask again in a minute.

recovery-title = Use a recovery code
recovery-intro = Lost your phone? Enter one of the recovery codes you saved when you set up two-factor login. Each code works once.
recovery-code = Recovery code
recovery-back = Back to the security token
recovery-none-left = No codes left? Your practice administrator can reset two-factor login.
recovery-wrong = That recovery code is not valid or was already used.
recovery-used-title = Logged in with a recovery code
recovery-used-left = That code cannot be used again. You have { $count ->
    [one] 1 recovery code
   *[other] { $count } recovery codes
} left.
recovery-used-intro = If your phone is lost or replaced, link the new one now, so that your next login needs no recovery code.
link-new-phone = Link a new phone
new-recovery-codes = Make new recovery codes
not-now = Not now: continue

forgot-intro = Enter your username or email address. If it belongs to an account, we email a link to choose a new password. Your authenticator app or phone is still needed to log in afterwards.
username-or-email = Username or email
email-reset-link = Email me a reset link
back-to-login = Back to Log In
reset-throttled = Too many reset requests from this address. Try again in an hour, or ask your practice administrator.

reset-title = Choose a new password
reset-help = At least { $count } characters; a few unrelated words work well. Every session and remembered device will be logged out, and two-factor login stays on.
reset-submit = Set the new password
welcome-title = Welcome
welcome = Welcome, { $name }
invite-help = Choose your password: at least { $count } characters; a few unrelated words work well.
invite-next-link = Next you link an authenticator app on your phone.
password-again = Password again
invite-submit = Set my password
emergency-title = Emergency access
emergency-help = This link lets an administrator in once without the second factor. Its use is recorded as an emergency and emailed to every administrator of the practice.

outbox-title = Demo outbox
outbox-help = Demo mode only: nothing is sent anywhere. Text messages and emails appear here (and a line for each on the server's terminal), newest first, so that every step can be finished on this computer.
outbox-texts = Text messages
outbox-no-texts = No text messages yet. Press "{ $button }" on the Two-Factor Login page.
outbox-emails = Emails
outbox-no-emails = No emails yet. "{ $forgot }", an invitation from the staff page, or emergency access send one.
outbox-to = To { $email }
