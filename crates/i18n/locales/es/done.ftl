# Lo que dice una página después de un formulario que salió bien.

done-password-changed = Su contraseña se cambió. Se cerraron todas las demás sesiones y los dispositivos recordados.
done-device-revoked = El dispositivo se revocó: volverá a pedir un código de seguridad.
done-devices-revoked = Se revocaron todos los dispositivos recordados.
done-two-factor-off = El inicio de sesión en dos pasos está desactivado. Ahora solo su contraseña protege esta cuenta.
done-authenticator-linked = Su aplicación de autenticación está vinculada: a partir de ahora, inicie sesión con un código de ella.
done-authenticator-relinked = Su nueva aplicación de autenticación está vinculada. Los códigos de la anterior ya no sirven.
done-phone-confirmed = Los mensajes de texto ahora van a { $who }.
done-passkey-added = Se añadió la llave de acceso. Sus inicios de sesión ya pueden terminar con ella.
done-passkey-removed = Se quitó la llave de acceso.
done-policy-saved = La política se guardó. Se aplica en la próxima solicitud de cada persona.
done-application-removed = Se quitó la aplicación; sus tokens dejaron de funcionar.
done-staff-added = Se añadió a { $who }; va de camino una invitación a su correo electrónico.
done-require-2fa = { $who } deberá usar el inicio de sesión en dos pasos a partir del próximo inicio de sesión.
done-unrequire-2fa = Usted ya no exige el inicio de sesión en dos pasos a { $who } (la política del consultorio aún puede exigirlo).
done-reset-2fa = Se restableció el inicio de sesión en dos pasos de { $who }: se borraron todos sus factores, códigos de recuperación, dispositivos recordados y sesiones. { $who } lo configurará de nuevo en el próximo inicio de sesión.
done-unlock = { $who } está desbloqueado.
done-disable = { $who } está desactivado y se cerraron todas sus sesiones.
done-enable = { $who } puede volver a iniciar sesión.
done-resend-invitation = Va de camino una invitación nueva a { $who }.
done-reset-requested = Si es una cuenta de aquí, va de camino un correo con un enlace para restablecer la contraseña. El enlace sirve una vez, durante una hora.
done-password-reset = Su contraseña se cambió. Inicie sesión con la nueva: se le seguirá pidiendo el código de su aplicación de autenticación o de su teléfono.
done-logged-out = Cerró la sesión. Cierre el navegador si esta computadora es compartida.
done-sms-sent = Se envió un código de seguridad por mensaje de texto a { $who }. Es válido durante 10 minutos.
