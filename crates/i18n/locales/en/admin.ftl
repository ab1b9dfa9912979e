# The practice administrator's pages: staff, one account, adding a user,
# the policy, the audit trail, the applications.

admin-nav-label = Administration
nav-applications = Applications
nav-start = Start page

staff-title = Staff
staff-search-label = Search name, username or email
staff-search = Search
staff-add = Add a user
staff-count = { $count ->
    [one] 1 account
   *[other] { $count } accounts
}
staff-matching = matching “{ $query }”
staff-list-label = Staff list
col-name = Name
col-username = Username
col-email = Email
col-role = Role
col-two-factor = Two-factor
col-status = Status
col-last-login = Last login
staff-open = Open
staff-manage = Manage
staff-paging = Page { $page } of { $pages }
paging-previous = Previous
paging-next = Next

role-staff = Staff
role-admin = Administrator
staff-factor-app = app
staff-factor-sms = SMS
twofa-on = On ({ $factors })
twofa-on-required = On ({ $factors }) · required
twofa-missing-required = Not set up · required: enrolls at next login
twofa-off = Off
status-disabled = Disabled
status-invited = Invited (no password yet)
status-locked = Locked until { $until }
status-active = Active
last-login-never = never

user-each-action = Each action asks for your own password again.
user-audit-link = This user's audit trail
action-unrequire-title = Stop requiring two-factor login
action-unrequire-help = The practice policy may still require it for everyone.
action-require-title = Require two-factor login
action-require-help = From the next login on, this user must use a second factor; without one, they link an authenticator app before anything else.
action-reset-title = Reset two-factor login
action-reset-help = For a lost phone: removes the authenticator app, the phone number, the recovery codes, every remembered device and every session. The user sets it up again at the next login.
action-unlock-title = Unlock
action-unlock-help = Clears the lock after too many wrong passwords or tokens.
action-enable-title = Enable the account
action-enable-help = The user can log in again.
action-disable-title = Disable the account
action-disable-help = Logs the user out everywhere and refuses every login until enabled again.
action-resend-title = Send the invitation again
action-resend-help = Emails a fresh link to choose a password.

new-user-title = Add a user
new-user-help = The new user gets an email with a link (valid for 3 days, usable once) to choose a password and, where two-factor login is required, to link an authenticator app.
new-user-role-admin = Administrator (manages accounts)
new-user-submit = Add and send the invitation

policy-title = Practice policy
policy-applies = Changes apply at everyone's next request.
policy-require-2fa = Require two-factor login for everyone: staff without an app, phone or passkey must link one at their next login
policy-forced = (required by the server configuration)
policy-allow-sms = Allow security tokens by text message. Texts are easier for staff but weaker than an app: a phone number can be taken over through the phone company. Turned off, staff with only a phone must link an app or passkey.
policy-passkey-sign-in = Allow signing in with a passkey alone, without the password: the passkey needs the device and its PIN, fingerprint or face, so it counts as both factors
policy-phishing-resistant = Administrators must use a passkey or security key: codes from an app, a text or a recovery sheet no longer finish an administrator's login, and one without a passkey registers one at the next login
policy-remember-days = "Save token" on private computers, days (0 to 30; 0 hides the checkbox)
policy-idle = Log out after this many idle minutes (5 to 240)
policy-min-length = Shortest password ({ $floor } to 64)
policy-time-zone = Time zone of the times on these pages
policy-time-zone-help = A name such as America/Chicago. Empty: the server's ({ $zone }). Exports and the audit trail's records stay in UTC; hover over a time to see it in UTC.
policy-language = Default language, for staff whose browser asks for a language these pages do not speak, and for messages to those who chose none
policy-language-none = None (English)
policy-save = Save the policy
policy-field-remember-days = Remember-device days
policy-field-idle = The idle timeout
policy-field-min-length = The minimum password length
policy-whole-number = { $field } must be a whole number.
policy-choose-language = Choose the default language from the list.

audit-title = Audit trail
audit-user = Username
audit-event = Event
audit-outcome = Outcome
audit-any = any
audit-from = From (date)
audit-to = To (date, inclusive)
audit-filter = Filter
audit-export = Export these events:
audit-export-jsonl = JSON Lines
audit-events-label = Audit events
col-time = Time
col-user = User
col-event = Event
col-outcome = Outcome
col-ip = IP
col-detail = Detail
audit-none = No events match.
audit-newest = Newest
audit-older = Older events
audit-no-such-user = No user named “{ $user }” in your practice.
audit-unknown-event = Unknown event type.
audit-bad-outcome = The outcome must be success, failure or blocked.
audit-bad-from = The start date must look like 2026-01-31.
audit-bad-to = The end date must look like 2026-01-31.
audit-from-after-to = The start date must not be after the end date.
outcome-success = Success
outcome-failure = Failure
outcome-blocked = Blocked

apps-title = Applications
apps-help-before = The practice's other applications can sign their users in here (OpenID Connect), with the same second factor, remembered browsers, locks and audit. Give an application the issuer
apps-help-after = ; it reads everything else from there. Only this practice's staff can sign in to these applications.
apps-registered = The application is registered.
apps-client-id = Client ID:
apps-client-secret = Client secret (shown this once; put it in the application's settings now):
apps-public-no-secret = A public client has no secret: the application must use PKCE.
apps-none = No application is registered yet.
col-client-id = Client ID
col-kind = Kind
col-redirect-uris = Redirect URIs
col-remove = Remove
apps-kind-public = public (PKCE)
apps-kind-confidential = confidential
apps-remove = Remove
apps-register-heading = Register an application
apps-name = Name
apps-redirect-uris = Redirect URIs, one per line (exactly as the application sends them)
apps-post-logout = Addresses to return to after logout, one per line (optional)
apps-public = A public client (runs in the browser or on a phone and cannot keep a secret)
apps-register = Register the application
