# Signing in to the practice's other applications (OpenID Connect).

oidc-refused-title = This sign-in cannot continue
oidc-malformed = The application's sign-in request is malformed (a parameter is repeated or not text). Go back to the application and try again.
oidc-too-long = The application's sign-in request is too long. Ask its administrator to check its settings.
oidc-start-link = Go to the start page
oidc-signed-in = Signed in
oidc-returning = Returning to { $name }…
oidc-continue = Continue to { $name }
oidc-the-application = the application
oidc-logout-title = Log out?
oidc-logout-asks = { $name } asks to log you out.
oidc-logout-asks-unknown = An application asks to log you out.
oidc-logout-explain = Logging out ends your sign-in on this site; an application keeps its own until you log out of it.
oidc-logout-confirm = Log out
oidc-stay = Stay logged in
oidc-logged-out-title = You are logged out
oidc-logged-out = You are logged out here. An application you signed in to may keep you signed in until you log out of it too. Close the browser if others use this computer.
oidc-log-in-again = Log in again
