# Mensajes y correos enviados a petición de la propia persona, en el idioma
# de la página desde la que los pidió.

sms-code = Código de seguridad de { $site }: { $code }. Caduca en { $minutes } minutos. No lo comparta con nadie; el personal nunca se lo pedirá.
reset-email-subject = { $site }: restablezca su contraseña
reset-email-asked = Alguien pidió restablecer la contraseña de su cuenta de { $site } «{ $name }».
reset-email-asked-html = Alguien pidió restablecer la contraseña de su cuenta de { $site } { $name }.
reset-email-open = Para elegir una contraseña nueva, abra este enlace antes de una hora:
reset-email-choose = Elegir una contraseña nueva
reset-email-once = (el enlace sirve una vez, durante una hora).
reset-email-not-you = Si no fue usted, ignore este correo: su contraseña sigue igual. El inicio de sesión en dos pasos sigue activado en cualquier caso.

invite-email-subject = { $site }: su invitación
invite-email-invited = { $admin } le invitó a { $site } como "{ $name }".
invite-email-invited-html = { $admin } le invitó a { $site } como { $name }.
invite-email-open = Para elegir su contraseña y configurar el inicio de sesión en dos pasos, abra este enlace en menos de { $days } días:
invite-email-choose = Elegir su contraseña
invite-email-once = (el enlace funciona una vez, durante { $days } días).
invite-email-not-you = El enlace funciona una vez. Si no esperaba esto, ignore este correo.
invite-email-not-you-html = Si no esperaba esto, ignore este correo.

emergency-email-subject = { $site }: { $name } usó el acceso de emergencia
emergency-email-used = { $name } inició sesión en { $site } con un enlace de acceso de emergencia el { $when } desde { $ip }: el segundo factor se omitió una vez.
emergency-email-check = El motivo dado al emitir el enlace está en el registro de auditoría (evento emergency_access_issued). Si no se esperaba, desactive la cuenta en la página del personal e investigue.
