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
