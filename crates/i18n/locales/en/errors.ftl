# Error pages. The English words are also in `web::error::Fault::answer`,
# which the API's problem documents use.

error-csrf-title = This form has expired
error-csrf-message = The form was too old or did not come from this site, so nothing was changed. Go back, reload the page and try again.
error-bad-request-title = That request could not be read
error-bad-request-message = The form arrived incomplete or malformed, so nothing was changed. Reload the page and try again.
error-too-large-title = That request was too large
error-too-large-message = The form sent more data than a login needs, so nothing was changed. Reload the page and try again.
error-unavailable-title = Temporarily unavailable
error-unavailable-message = The login service cannot reach its database right now. Nothing was changed. Please try again in a minute; if it persists, tell your practice administrator.
error-internal-title = Something went wrong
error-internal-message = The login service hit an unexpected error. Nothing was changed. Please try again; if it persists, tell your practice administrator.
not-found-title = Page not found
not-found-message = There is no page at this address.
not-found-link = Go to the start page
dead-reset-title = This reset link does not work
dead-reset-message = The link was already used, is more than an hour old, or was copied incompletely. Ask for a new one.
dead-reset-link = Ask for a new link
dead-invitation-title = This invitation does not work
dead-invitation-message = The link was already used, is more than three days old, or was copied incompletely. Ask your practice administrator to send the invitation again.
dead-emergency-title = This emergency link does not work
dead-emergency-message = The link was already used, is more than an hour old, or was copied incompletely. Whoever runs the server can issue a new one with `twofactor emergency-access`.
admins-only-title = For practice administrators
admins-only-message = Only practice administrators can open this page. Ask yours if you need an account changed.
