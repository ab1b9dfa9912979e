# Avisos de seguridad por correo al titular de la cuenta (domain::notify).

notice-subject = { $site }: { $subject }
notice-intro = Cuenta "{ $name }" en { $site }, { $when }:
notice-intro-from = Cuenta "{ $name }" en { $site }, { $when } (desde { $ip }):
notice-tell-admin = Si no fue usted, avise ahora al administrador de su consulta.
notice-change-and-tell = Si no fue usted, cambie su contraseña y avise ahora al administrador de su consulta.

notice-password-changed-subject = se cambió su contraseña
notice-password-changed-what = Se cambió la contraseña de su cuenta. Se cerraron todas las sesiones y los dispositivos recordados.
notice-two-factor-on-subject = el inicio de sesión en dos pasos está activado
notice-two-factor-on-what = Se vinculó una aplicación de autenticación a su cuenta; ahora los inicios de sesión piden su código.
notice-two-factor-off-subject = se desactivó el inicio de sesión en dos pasos
notice-two-factor-off-what = Se desactivó el inicio de sesión en dos pasos de su cuenta: ahora basta la contraseña para entrar.
notice-two-factor-reset-subject = se restableció el inicio de sesión en dos pasos
notice-two-factor-reset-what = Un administrador quitó sus segundos factores (aplicación de autenticación, códigos de recuperación y dispositivos recordados). Volverá a vincular una aplicación en su próximo inicio de sesión.
notice-device-remembered-subject = se recordó un dispositivo
notice-device-remembered-what = Se guardó un navegador para no pedir el código durante 30 días. Puede olvidarlo en la página de seguridad.
notice-device-remembered-advice = Si no fue usted, olvide el dispositivo en la página de seguridad, cambie su contraseña y avise al administrador de su consulta.
notice-recovery-code-used-subject = se usó un código de recuperación
notice-recovery-code-used-what = Se usó uno de sus códigos de recuperación para iniciar sesión. Cada código funciona una vez.
notice-recovery-code-used-advice = Si no fue usted, cambie su contraseña, cree códigos de recuperación nuevos y avise al administrador de su consulta.
notice-recovery-codes-created-subject = se crearon códigos de recuperación nuevos
notice-recovery-codes-created-what = Se creó un juego nuevo de códigos de recuperación para su cuenta; los anteriores ya no funcionan.
notice-phone-changed-subject = se cambió su teléfono celular
notice-phone-changed-what = Un número de celular nuevo recibe ahora sus códigos por mensaje de texto. Se cerraron todas las demás sesiones y los dispositivos recordados.
notice-passkey-added-subject = se añadió una llave de acceso
notice-passkey-added-what = Se añadió una llave de acceso o de seguridad a su cuenta; ahora puede completar sus inicios de sesión.
notice-passkey-added-advice = Si no fue usted, quítela en la página de seguridad, cambie su contraseña y avise ahora al administrador de su consulta.
notice-passkey-removed-subject = se quitó una llave de acceso
notice-passkey-removed-what = Se quitó una llave de acceso o de seguridad de su cuenta; ya no sirve para iniciar sesión.
notice-account-locked-subject = se bloqueó su cuenta
notice-account-locked-what = Se escribieron demasiadas contraseñas o códigos erróneos, así que los inicios de sesión están en pausa durante un tiempo.
notice-account-locked-advice = Si no fue usted, puede que alguien esté intentando adivinar: avise al administrador de su consulta.
notice-abandoned-login-subject = alguien escribió su contraseña
notice-abandoned-login-what = Alguien escribió su contraseña correcta pero no completó el segundo paso (el código) en 10 minutos.
notice-abandoned-login-advice = Si no fue usted, alguien más conoce su contraseña: cámbiela ahora y avise al administrador de su consulta. Su código le impidió entrar.
