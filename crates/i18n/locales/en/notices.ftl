# Security notices by email to the account's owner (domain::notify).

notice-subject = { $site }: { $subject }
notice-intro = Account "{ $name }" at { $site }, { $when }:
notice-intro-from = Account "{ $name }" at { $site }, { $when } (from { $ip }):
notice-tell-admin = If this was not you, tell your practice administrator now.
notice-change-and-tell = If this was not you, change your password and tell your practice administrator now.

notice-password-changed-subject = your password was changed
notice-password-changed-what = The password of your account was changed. Every session and remembered device was logged out.
notice-two-factor-on-subject = two-factor login is on
notice-two-factor-on-what = An authenticator app was linked to your account; logins now ask for its token.
notice-two-factor-off-subject = two-factor login was turned off
notice-two-factor-off-what = Two-factor login was turned off for your account: a password alone now logs in.
notice-two-factor-reset-subject = two-factor login was reset
notice-two-factor-reset-what = An administrator removed your second factors (authenticator, recovery codes and remembered devices). You will link an authenticator again at your next login.
notice-device-remembered-subject = a device was remembered
notice-device-remembered-what = A browser was saved to skip the token for 30 days. You can forget it on the Security page.
notice-device-remembered-advice = If this was not you, forget the device on the Security page, change your password and tell your practice administrator.
notice-recovery-code-used-subject = a recovery code was used
notice-recovery-code-used-what = One of your recovery codes was used to log in. Each code works once.
notice-recovery-code-used-advice = If this was not you, change your password, create new recovery codes and tell your practice administrator.
notice-recovery-codes-created-subject = new recovery codes were made
notice-recovery-codes-created-what = A new set of recovery codes was made for your account; the old codes no longer work.
notice-phone-changed-subject = your cell phone was changed
notice-phone-changed-what = A new cell phone number now receives your text-message codes. Every other session and remembered device was logged out.
notice-passkey-added-subject = a passkey was added
notice-passkey-added-what = A passkey or security key was added to your account; it can now finish your logins.
notice-passkey-added-advice = If this was not you, remove it on the Security page, change your password and tell your practice administrator now.
notice-passkey-removed-subject = a passkey was removed
notice-passkey-removed-what = A passkey or security key was removed from your account; it no longer logs in.
notice-account-locked-subject = your account was locked
notice-account-locked-what = Too many wrong passwords or tokens were entered, so logins are paused for a while.
notice-account-locked-advice = If this was not you, someone may be guessing: tell your practice administrator.
notice-abandoned-login-subject = someone entered your password
notice-abandoned-login-what = Someone entered your correct password but did not finish the second step (the token) within 10 minutes.
notice-abandoned-login-advice = If this was not you, your password is known to someone else: change it now and tell your practice administrator. Your token kept them out.
