# Iniciar sesión en las demás aplicaciones de la consulta (OpenID Connect).

oidc-refused-title = Este inicio de sesión no puede continuar
oidc-malformed = La solicitud de inicio de sesión de la aplicación está mal formada (un parámetro está repetido o no es texto). Vuelva a la aplicación e inténtelo de nuevo.
oidc-too-long = La solicitud de inicio de sesión de la aplicación es demasiado larga. Pida a su administrador que revise su configuración.
oidc-start-link = Ir a la página de inicio
oidc-signed-in = Sesión iniciada
oidc-returning = Volviendo a { $name }…
oidc-continue = Continuar a { $name }
oidc-the-application = la aplicación
oidc-logout-title = ¿Cerrar sesión?
oidc-logout-asks = { $name } pide cerrar su sesión.
oidc-logout-asks-unknown = Una aplicación pide cerrar su sesión.
oidc-logout-explain = Cerrar sesión termina su sesión en este sitio; cada aplicación mantiene la suya hasta que cierre sesión en ella.
oidc-logout-confirm = Cerrar sesión
oidc-stay = Seguir con la sesión iniciada
oidc-logged-out-title = Ha cerrado sesión
oidc-logged-out = Ha cerrado sesión aquí. Una aplicación en la que inició sesión puede mantenerla hasta que también cierre sesión en ella. Cierre el navegador si otras personas usan esta computadora.
oidc-log-in-again = Iniciar sesión de nuevo
