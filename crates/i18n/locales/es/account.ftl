# Las páginas propias de una persona con sesión iniciada.

dashboard-title = Panel
logged-in-as = Sesión iniciada como
nudge-title = Cree códigos de recuperación
nudge-text = No tiene códigos de recuperación. Si pierde o se le rompe el teléfono, un código de recuperación es la forma de iniciar sesión sin él. Cree un juego ahora y guárdelo en un lugar seguro, lejos del teléfono.
dashboard-stand-in = Esta página ocupa el lugar de la aplicación de su clínica.
account-security = Seguridad de la cuenta
practice-administration = Administración del consultorio:
nav-staff = Personal
nav-policy = Política
nav-audit = Registro de auditoría
log-out = Cerrar sesión

security-two-factor = Inicio de sesión en dos pasos
security-phone = Teléfono móvil para mensajes de texto:
add-or-change = Añadir o cambiar
link-app = Vincular una aplicación de autenticación
link-app-aside = (o pasarla a un teléfono nuevo)
passkeys-link = Llaves de acceso y de seguridad
recovery-unused = Códigos de recuperación sin usar:
recovery-codes-link = Códigos de recuperación
turn-off-summary = Desactivar el inicio de sesión en dos pasos
your-password = Su contraseña
code-from-app = Un código de su aplicación
turn-off = Desactivar
remembered-devices = Dispositivos recordados
no-devices = Ningún dispositivo se salta el código de seguridad.
device = Dispositivo
saved = Guardado
last-used = Último uso
expires = Caduca
revoke = Revocar
revoke-all = Revocar todos
password-heading = Contraseña
change-password = Cambiar la contraseña
back-to-start = Volver a la página de inicio
back-to-security = Volver a la seguridad de la cuenta
two-factor-on = Activado: { $factors }.
two-factor-off-status = Desactivado: solo su contraseña protege esta cuenta.
factor-app = aplicación de autenticación (códigos de { $digits } dígitos)
factor-sms = mensaje de texto a { $phone }
factor-and = { $first } y { $second }
none = ninguno
never = nunca

password-help = Al menos { $count } caracteres; una frase larga se recuerda mejor que los símbolos. Se cerrarán todas las demás sesiones y los dispositivos recordados.
current-password = Contraseña actual
new-password = Contraseña nueva
new-password-again = Repita la contraseña nueva

link-required = Su consultorio exige el inicio de sesión en dos pasos y su cuenta aún no tiene una aplicación de autenticación vinculada: configúrela ahora para continuar. Tarda un minuto.
confirm-before-relink = Confirme que es usted antes de pasar el inicio de sesión en dos pasos a un teléfono nuevo.
confirm-before-link = Confirme que es usted antes de vincular una aplicación.
current-code-or-recovery = Un código de su aplicación actual o un código de recuperación
lost-everything = ¿Perdió el teléfono anterior y todos los códigos de recuperación? El administrador de su consultorio puede restablecer el inicio de sesión en dos pasos.
continue = Continuar
scan-title = Escanee el código QR
scan-intro = Abra su aplicación de autenticación (Google Authenticator, Authy, 1Password, FreeOTP…), añada una cuenta y escanee este código.
qr-label = Código QR para su aplicación de autenticación (la misma cuenta que la clave de abajo)
cant-scan = ¿No puede escanearlo? Introduzca esta clave a mano (basada en el tiempo, 6 dígitos):
setup-link = Enlace de configuración
code-app-shows = El código de 6 dígitos que muestra ahora la aplicación
confirm-and-link = Confirmar y vincular
nothing-changes = No cambia nada hasta que confirme. Si sale de esta página, su cuenta queda como estaba.

codes-title = Sus códigos de recuperación
codes-intro = Si pierde su teléfono, cada uno de estos códigos le permite iniciar sesión una vez en lugar de un código de seguridad.
codes-shown-once = Solo se muestran ahora.
codes-keep = Imprímalos o guárdelos en un lugar seguro, lejos de su teléfono.
download-codes = Descargar como archivo de texto
print = Imprimir
codes-done = Listo: volver a la seguridad de la cuenta
codes-new-title = Códigos de recuperación
codes-unused = { $count ->
    [one] Tiene 1 código de recuperación sin usar
   *[other] Tiene { $count } códigos de recuperación sin usar
}. Al crear un juego nuevo, todos los códigos anteriores dejan de funcionar.
code-from-app-or-recovery = Un código de su aplicación de autenticación o un código de recuperación
not-needed-after-login = No hace falta durante los 5 minutos siguientes al inicio de sesión.
make-new-set = Crear un juego nuevo de 10 códigos

passkeys-title = Llaves de acceso y de seguridad
passkeys-intro = Una llave de acceso (en su teléfono o computadora) o una llave de seguridad (una pequeña llave USB o NFC) termina su inicio de sesión sin escribir un código, y una página de inicio falsa no puede engañarla.
passkeys-must-add = Su consultorio exige que los administradores usen una llave de acceso o de seguridad. Añada una para terminar de iniciar sesión: su contraseña y, si lo tiene, un código de su aplicación o un código de recuperación.
no-passkeys = Aún no tiene ninguna llave de acceso ni de seguridad.
passkey-name-column = Nombre
added = Añadida
synced = Sincronizada
remove = Quitar
remove-named = Quitar { $name }
code-if-asked = Un código de su aplicación (si se lo pide)
add-one = Añadir una
passkey-name = Nombre (por ejemplo, "Llave de seguridad de la oficina")
code-or-recovery-if-asked = Un código de su aplicación o un código de recuperación (si se lo pide)
passkeys-up-to = Hasta { $count }. Su navegador le pedirá que elija dónde guardarla.
add-passkey = Añadir una llave de acceso o de seguridad
passkey-add-needs-js = Para añadir una llave de acceso hace falta JavaScript en este navegador. Sus otros factores siguen funcionando.
yes = sí
no = no

phone-title = Teléfono móvil para mensajes de texto
current-number = Número actual:
phone-code-label = El código del mensaje de texto
confirm-number = Confirmar este número
phone-used-after-confirm = El número nuevo solo se usa después de confirmarlo. ¿Número equivocado? Escríbalo de nuevo abajo.
country = País
cell-number = Número de teléfono móvil
send-code = Enviar un código a este número
phone-code-sent = Se envió un código a { $phone }. Escríbalo abajo.
phone-cooldown = Se acaba de enviar un mensaje. Espere { $seconds } segundos.
phone-too-many = Demasiados mensajes de texto en la última hora. Inténtelo más tarde.
phone-failed = El servicio de mensajes de texto se negó a enviar a este número. Revíselo o pruebe con otro.
phone-delayed = El servicio de mensajes de texto no responde ahora mismo. El código a { $phone } se enviará en cuanto vuelva; escríbalo abajo cuando llegue.
phone-wrong-code = Ese código no es correcto.
phone-code-expired = Ese código caducó o se agotaron los intentos. Escriba el número de nuevo para recibir un código nuevo.
country-us = Estados Unidos (+1)
country-ca = Canadá (+1)
country-gb = Reino Unido (+44)
country-ie = Irlanda (+353)
country-au = Australia (+61)
country-nz = Nueva Zelanda (+64)
country-de = Alemania (+49)
country-fr = Francia (+33)
country-es = España (+34)
country-mx = México (+52)
country-in = India (+91)
country-ph = Filipinas (+63)

passkey-not-confirmed = El cambio no se confirmó.
passkey-no-such = No existe esa llave de acceso.
passkey-session-ended = Su inicio de sesión ha caducado (pasaron más de 5 minutos, o se cerró). Vuelva a iniciar sesión.
passkey-locked = Esta cuenta está bloqueada { $minutes ->
    [one] 1 minuto
   *[other] { $minutes } minutos
} más tras demasiados intentos erróneos. El administrador de su consulta puede desbloquearla antes.

link-wrong-password = La contraseña no es correcta.
link-proof-needed = Ya hay una aplicación vinculada: escriba un código de ella o uno de sus códigos de recuperación.
link-wrong-proof = Ese código de su aplicación actual o de recuperación no es válido.
link-fresh-login-needed = Su teléfono protege esta cuenta: cierre sesión, vuelva a iniciarla con un código por mensaje de texto y vincule la aplicación en menos de 5 minutos.
link-code-mismatch = Ese código no coincide. Compruebe que la aplicación muestra esta cuenta y escriba el código que muestra ahora.
link-too-long = Tardó demasiado. Empiece de nuevo.
link-expired = Pasaron más de 5 minutos desde que escribió su contraseña. Empiece de nuevo; no se cambió nada.
recovery-new-set = Se creó un juego nuevo; los códigos anteriores ya no funcionan.
emergency-wrong-password = La contraseña no es correcta (o los intentos de contraseña están bloqueados durante un tiempo).

passkey-js-no-answer = El servidor no respondió (%s).
passkey-js-cancelled = La solicitud de la llave de acceso se canceló o caducó. Inténtelo de nuevo.
passkey-js-registered = Esta llave de acceso o de seguridad ya está registrada.
passkey-js-failed = La llave de acceso no funcionó. Inténtelo de nuevo o use otra forma.
passkey-js-refused = No se aceptó la llave de acceso.
