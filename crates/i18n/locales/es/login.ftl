# El inicio de sesión: contraseña, segundo factor, códigos de recuperación y
# "¿Olvidó su contraseña?".

language-switch = Idioma
log-in = Iniciar sesión
forgot-password = ¿Olvidó su contraseña?
username = Usuario
password = Contraseña
passkey-sign-in = Iniciar sesión con una llave de acceso
wrong-password = El usuario o la contraseña no son correctos. Revise ambos e inténtelo de nuevo.
password-throttled = Demasiados intentos fallidos. Inténtelo de nuevo en { $minutes ->
    [one] 1 minuto
   *[other] { $minutes } minutos
} o pida al administrador de su consultorio que desbloquee su cuenta.

two-factor-title = Inicio de sesión en dos pasos
two-factor-passkey-only = Su consultorio exige que los administradores terminen de iniciar sesión con una llave de acceso o de seguridad. Para su cuenta no se aceptan códigos de una aplicación, de un mensaje de texto ni de una hoja de recuperación.
two-factor-intro-app-sms = Introduzca el código de seguridad de la aplicación de autenticación de su teléfono móvil. También puede pedir un código de seguridad por mensaje de texto.
two-factor-intro-app = Introduzca el código de seguridad de la aplicación de autenticación de su teléfono móvil.
two-factor-intro-sms = Pulse «Pedir código por SMS» y se enviará un código de seguridad a { $phone }. Después, introdúzcalo aquí.
two-factor-intro-passkey = Termine de iniciar sesión con su llave de acceso o de seguridad.
two-factor-intro-recovery = Termine de iniciar sesión con uno de sus códigos de recuperación.
use-passkey = Usar su llave de acceso o de seguridad
passkey-needs-js = Las llaves de acceso necesitan JavaScript en este navegador; las otras formas de abajo siguen funcionando.
passkey-unsupported = Este navegador no puede usar llaves de acceso; las otras formas de abajo siguen funcionando.
passkey-needs-js-only = Las llaves de acceso necesitan JavaScript en este navegador: actívelo para terminar de iniciar sesión.
passkey-unsupported-only = Este navegador no puede usar llaves de acceso: use uno que pueda o pida ayuda a otro administrador.
security-token = Código de seguridad
request-sms = Pedir código por SMS
token-help-app-sms = { $digits } dígitos de su aplicación, o los 6 dígitos del mensaje de texto. Los espacios no cuentan.
token-help-app = { $digits } dígitos de su aplicación. Los espacios no cuentan.
token-help-sms = Los 6 dígitos del mensaje de texto. Los espacios no cuentan.
remember-token = Recordar el código durante { $days } días. (¡No en computadoras públicas!)
use-recovery = ¿Perdió su teléfono? Use un código de recuperación
recovery-left = (quedan { $count })
no-recovery = ¿Perdió su teléfono? El administrador de su consultorio puede restablecer su inicio de sesión en dos pasos para que vincule uno nuevo.

token-reused = Ese código ya se usó. Espere al siguiente código de su aplicación e introdúzcalo.
token-empty = Introduzca el código de seguridad de su aplicación.
token-wrong = Ese código de seguridad no es correcto.
clock-behind = El reloj de su teléfono parece ir { $minutes ->
    [one] 1 minuto
   *[other] { $minutes } minutos
} atrasado. Active la fecha y hora automáticas en los ajustes del teléfono y pruebe con el código nuevo.
attempts-left = { $count ->
    [one] Queda 1 intento.
   *[other] Quedan { $count } intentos.
}
too-many-wrong = Demasiados códigos incorrectos terminaron este inicio de sesión. Vuelva a iniciar sesión con su contraseña y luego introduzca el código que muestre ahora su aplicación o su mensaje de texto.
login-expired = Este inicio de sesión terminó: el código debe introducirse en menos de { $minutes ->
    [one] 1 minuto
   *[other] { $minutes } minutos
} tras la contraseña. Vuelva a iniciar sesión.
login-ended = Su sesión de inicio terminó. Vuelva a iniciar sesión.
locked-tokens = Demasiados códigos de seguridad incorrectos: el inicio de sesión en dos pasos de esta cuenta está bloqueado durante { $minutes ->
    [one] 1 minuto
   *[other] { $minutes } minutos
}. El administrador de su consultorio puede desbloquearlo antes.
locked-codes = Demasiados códigos incorrectos: el inicio de sesión en dos pasos de esta cuenta está bloqueado durante { $minutes ->
    [one] 1 minuto
   *[other] { $minutes } minutos
}. El administrador de su consultorio puede desbloquearlo antes.
passkey-required = Solo una llave de acceso o de seguridad puede terminar este inicio de sesión.

sms-cooldown = Se acaba de enviar un mensaje de texto. Espere { $seconds } segundos antes de pedir otro.
sms-too-many = Demasiados mensajes de texto en la última hora. Use su aplicación de autenticación o inténtelo más tarde.
sms-no-phone = Su cuenta no tiene un número de teléfono vinculado. Use su aplicación de autenticación.
sms-forbidden = Su consultorio no permite códigos de seguridad por mensaje de texto. Use su aplicación de autenticación o un código de recuperación.
sms-rejected = El servicio de mensajes de texto se negó a enviar a { $phone }. Use su aplicación de autenticación o un código de recuperación y pida al administrador de su consultorio que revise el número.
sms-delayed = El servicio de mensajes de texto no responde ahora mismo. Su código a { $phone } se enviará en cuanto vuelva, así que puede llegar tarde. También puede usar su aplicación de autenticación o pedirlo de nuevo en un minuto.

recovery-title = Usar un código de recuperación
recovery-intro = ¿Perdió su teléfono? Introduzca uno de los códigos de recuperación que guardó al configurar el inicio de sesión en dos pasos. Cada código sirve una sola vez.
recovery-code = Código de recuperación
recovery-back = Volver al código de seguridad
recovery-none-left = ¿No le quedan códigos? El administrador de su consultorio puede restablecer el inicio de sesión en dos pasos.
recovery-wrong = Ese código de recuperación no es válido o ya se usó.
recovery-used-title = Sesión iniciada con un código de recuperación
recovery-used-left = Ese código ya no se puede volver a usar. Le { $count ->
    [one] queda 1 código de recuperación
   *[other] quedan { $count } códigos de recuperación
}.
recovery-used-intro = Si perdió o cambió su teléfono, vincule el nuevo ahora para que su próximo inicio de sesión no necesite un código de recuperación.
link-new-phone = Vincular un teléfono nuevo
new-recovery-codes = Crear códigos de recuperación nuevos
not-now = Ahora no: continuar

forgot-intro = Introduzca su usuario o su correo electrónico. Si pertenece a una cuenta, le enviaremos un enlace para elegir una contraseña nueva. Después seguirá necesitando su aplicación de autenticación o su teléfono para iniciar sesión.
username-or-email = Usuario o correo electrónico
email-reset-link = Enviarme un enlace para restablecerla
back-to-login = Volver a Iniciar sesión
reset-throttled = Demasiadas solicitudes de restablecimiento desde esta dirección. Inténtelo de nuevo en una hora o consulte al administrador de su consultorio.

reset-title = Elija una contraseña nueva
reset-help = Al menos { $count } caracteres; unas cuantas palabras sin relación entre sí funcionan bien. Se cerrarán todas las sesiones y los dispositivos recordados, y el inicio de sesión en dos pasos sigue activado.
reset-submit = Guardar la contraseña nueva
welcome-title = Bienvenida
welcome = Le damos la bienvenida, { $name }
invite-help = Elija su contraseña: al menos { $count } caracteres; unas cuantas palabras sin relación entre sí funcionan bien.
invite-next-link = Después vinculará una aplicación de autenticación en su teléfono.
password-again = Repita la contraseña
invite-submit = Guardar mi contraseña
emergency-title = Acceso de emergencia
emergency-help = Este enlace permite entrar una vez a un administrador sin el segundo factor. Su uso queda registrado como emergencia y se notifica por correo a todos los administradores del consultorio.

outbox-title = Buzón de la demostración
outbox-help = Solo en modo de demostración: no se envía nada a ningún sitio. Los mensajes de texto y los correos aparecen aquí (y una línea por cada uno en la terminal del servidor), los más recientes primero, para que cada paso se pueda completar en esta computadora.
outbox-texts = Mensajes de texto
outbox-no-texts = Aún no hay mensajes de texto. Pulse "{ $button }" en la página del inicio de sesión en dos pasos.
outbox-emails = Correos
outbox-no-emails = Aún no hay correos. "{ $forgot }", una invitación desde la página del personal o el acceso de emergencia envían uno.
outbox-to = Para { $email }
