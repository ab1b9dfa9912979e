# Las páginas del administrador de la consulta: personal, una cuenta, añadir
# un usuario, la política, el registro de auditoría, las aplicaciones.

admin-nav-label = Administración
nav-applications = Aplicaciones
nav-start = Página de inicio

staff-title = Personal
staff-search-label = Buscar por nombre, usuario o correo
staff-search = Buscar
staff-add = Añadir un usuario
staff-count = { $count ->
    [one] 1 cuenta
   *[other] { $count } cuentas
}
staff-matching = que coinciden con “{ $query }”
staff-list-label = Lista del personal
col-name = Nombre
col-username = Usuario
col-email = Correo electrónico
col-role = Función
col-two-factor = Dos pasos
col-status = Estado
col-last-login = Último inicio de sesión
staff-open = Abrir
staff-manage = Gestionar
staff-paging = Página { $page } de { $pages }
paging-previous = Anterior
paging-next = Siguiente

role-staff = Personal
role-admin = Administrador
staff-factor-app = aplicación
staff-factor-sms = SMS
twofa-on = Activado ({ $factors })
twofa-on-required = Activado ({ $factors }) · obligatorio
twofa-missing-required = Sin configurar · obligatorio: lo configura en el próximo inicio de sesión
twofa-off = Desactivado
status-disabled = Desactivada
status-invited = Invitada (aún sin contraseña)
status-locked = Bloqueada hasta { $until }
status-active = Activa
last-login-never = nunca

user-each-action = Cada acción vuelve a pedir su propia contraseña.
user-audit-link = Registro de auditoría de este usuario
action-unrequire-title = Dejar de exigir el inicio de sesión en dos pasos
action-unrequire-help = La política de la consulta puede seguir exigiéndolo a todos.
action-require-title = Exigir el inicio de sesión en dos pasos
action-require-help = Desde el próximo inicio de sesión, este usuario debe usar un segundo factor; si no tiene ninguno, vincula una aplicación de autenticación antes que nada.
action-reset-title = Restablecer el inicio de sesión en dos pasos
action-reset-help = Para un teléfono perdido: quita la aplicación de autenticación, el número de teléfono, los códigos de recuperación, todos los dispositivos recordados y todas las sesiones. El usuario lo vuelve a configurar en el próximo inicio de sesión.
action-unlock-title = Desbloquear
action-unlock-help = Quita el bloqueo tras demasiadas contraseñas o códigos erróneos.
action-enable-title = Activar la cuenta
action-enable-help = El usuario puede volver a iniciar sesión.
action-disable-title = Desactivar la cuenta
action-disable-help = Cierra la sesión del usuario en todas partes y rechaza todo inicio de sesión hasta que se vuelva a activar.
action-resend-title = Enviar la invitación de nuevo
action-resend-help = Envía por correo un enlace nuevo para elegir una contraseña.

new-user-title = Añadir un usuario
new-user-help = El nuevo usuario recibe un correo con un enlace (válido 3 días, de un solo uso) para elegir una contraseña y, donde se exige el inicio de sesión en dos pasos, vincular una aplicación de autenticación.
new-user-role-admin = Administrador (gestiona las cuentas)
new-user-submit = Añadir y enviar la invitación

policy-title = Política de la consulta
policy-applies = Los cambios se aplican en la siguiente petición de cada persona.
policy-require-2fa = Exigir a todos el inicio de sesión en dos pasos: el personal sin aplicación, teléfono ni llave de acceso debe vincular uno en su próximo inicio de sesión
policy-forced = (lo exige la configuración del servidor)
policy-allow-sms = Permitir códigos de seguridad por mensaje de texto. Los mensajes son más fáciles para el personal pero más débiles que una aplicación: un número de teléfono puede ser secuestrado a través de la compañía telefónica. Si se desactiva, el personal que solo tiene teléfono debe vincular una aplicación o una llave de acceso.
policy-passkey-sign-in = Permitir iniciar sesión solo con una llave de acceso, sin contraseña: la llave necesita el dispositivo y su PIN, huella o rostro, así que cuenta como ambos factores
policy-phishing-resistant = Los administradores deben usar una llave de acceso o de seguridad: los códigos de una aplicación, un mensaje o una hoja de recuperación ya no completan el inicio de sesión de un administrador, y quien no tenga llave registra una en el próximo inicio de sesión
policy-remember-days = "Recordar el código" en computadoras privadas, días (0 a 30; 0 oculta la casilla)
policy-idle = Cerrar la sesión tras estos minutos de inactividad (5 a 240)
policy-min-length = Contraseña más corta ({ $floor } a 64)
policy-time-zone = Zona horaria de las horas en estas páginas
policy-time-zone-help = Un nombre como America/Chicago. Vacío: la del servidor ({ $zone }). Las exportaciones y los registros de auditoría quedan en UTC; pase el puntero sobre una hora para verla en UTC.
policy-language = Idioma predeterminado, para el personal cuyo navegador pide un idioma que estas páginas no hablan, y para los mensajes a quien no eligió ninguno
policy-language-none = Ninguno (inglés)
policy-save = Guardar la política
policy-field-remember-days = El número de días para recordar el dispositivo
policy-field-idle = El tiempo de inactividad
policy-field-min-length = La longitud mínima de la contraseña
policy-whole-number = { $field } debe ser un número entero.
policy-choose-language = Elija el idioma predeterminado de la lista.

audit-title = Registro de auditoría
audit-user = Usuario
audit-event = Evento
audit-outcome = Resultado
audit-any = cualquiera
audit-from = Desde (fecha)
audit-to = Hasta (fecha, incluida)
audit-filter = Filtrar
audit-export = Exportar estos eventos:
audit-export-jsonl = JSON Lines
audit-events-label = Eventos de auditoría
col-time = Hora
col-user = Usuario
col-event = Evento
col-outcome = Resultado
col-ip = IP
col-detail = Detalle
audit-none = Ningún evento coincide.
audit-newest = Más recientes
audit-older = Eventos anteriores
audit-no-such-user = No hay ningún usuario llamado “{ $user }” en su consulta.
audit-unknown-event = Tipo de evento desconocido.
audit-bad-outcome = El resultado debe ser success, failure o blocked.
audit-bad-from = La fecha de inicio debe tener la forma 2026-01-31.
audit-bad-to = La fecha de fin debe tener la forma 2026-01-31.
audit-from-after-to = La fecha de inicio no debe ser posterior a la de fin.
outcome-success = Éxito
outcome-failure = Fallo
outcome-blocked = Bloqueado

apps-title = Aplicaciones
apps-help-before = Las demás aplicaciones de la consulta pueden hacer que sus usuarios inicien sesión aquí (OpenID Connect), con el mismo segundo factor, navegadores recordados, bloqueos y auditoría. Dé a la aplicación el emisor
apps-help-after = ; ella lee todo lo demás desde ahí. Solo el personal de esta consulta puede iniciar sesión en estas aplicaciones.
apps-registered = La aplicación está registrada.
apps-client-id = ID de cliente:
apps-client-secret = Secreto del cliente (se muestra solo esta vez; póngalo ahora en la configuración de la aplicación):
apps-public-no-secret = Un cliente público no tiene secreto: la aplicación debe usar PKCE.
apps-none = Aún no hay ninguna aplicación registrada.
col-client-id = ID de cliente
col-kind = Tipo
col-redirect-uris = URI de redirección
col-remove = Quitar
apps-kind-public = público (PKCE)
apps-kind-confidential = confidencial
apps-remove = Quitar
apps-register-heading = Registrar una aplicación
apps-name = Nombre
apps-redirect-uris = URI de redirección, una por línea (exactamente como las envía la aplicación)
apps-post-logout = Direcciones a las que volver tras cerrar sesión, una por línea (opcional)
apps-public = Un cliente público (funciona en el navegador o en un teléfono y no puede guardar un secreto)
apps-register = Registrar la aplicación
